"""The parameters of examples/tools.py as toolkit builds them (what `toolkit serve` must advertise)."""

from __future__ import annotations


def expected_schemas() -> dict:
    import sys

    from .conftest import ROOT

    sys.path.insert(0, str(ROOT / "examples"))
    from toolkit.cli import load_tools

    return {t.name: t.parameters for t in load_tools(str(ROOT / "examples" / "tools.py"))}
