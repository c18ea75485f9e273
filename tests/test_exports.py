import subprocess
import sys

import toolkit
import toolkit.client
import toolkit.schema


def test_all_is_sorted_and_resolves():
    for module in (toolkit, toolkit.schema, toolkit.client):
        assert module.__all__ == sorted(module.__all__), module.__name__
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"


def test_import_is_light_and_has_no_side_effects():
    code = ("import sys, toolkit; heavy = [m for m in ('jinja2', 'requests', 'docstring_parser', 'pydantic', 'mcp', 'opentelemetry', 'distributed', 'jsonschema', 'concurrent.futures') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "" and out.stderr == ""
