"""The README's "test offline" snippet runs as written: a caller's adapter, no server at all."""

from __future__ import annotations

import pathlib
import re

from .conftest import ROOT


def test_readme_offline_snippet_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Bring your own session", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    prelude = ("from toolkit import tool\n\n@tool\ndef get_weather(city: str) -> dict:\n"
               "    '''Get the weather.'''\n    return {'city': city, 'temperature': 21}\n")
    exec(compile(prelude + code, str(pathlib.Path("README.md")), "exec"), namespace)  # our own README code
    client = namespace["client"]
    assert client.base_url == "http://localhost:8000"  # nothing was sent there: the adapter answered
    assert namespace["Canned"] is not None and not namespace["client"]._transport.session.adapters["http://"].texts
