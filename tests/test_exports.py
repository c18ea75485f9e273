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


def test_a_client_and_run_load_only_what_constructing_needs():
    """What ``bench_scale.py``'s import figure measures: the schema engine, the loop's machinery,
    the stream reader, the /v1 client and jinja2 load on first use, not with the import."""
    code = ("import sys\nfrom toolkit import LightLLMClient, run\nLightLLMClient()\n"
            "late = ('toolkit.schema', 'toolkit._analysis', 'toolkit._engine', 'toolkit._events', 'toolkit._execute', "
            "'toolkit._output', 'toolkit.client._openai', 'toolkit.client._stream', 'jinja2', 'docstring_parser')\n"
            "print(','.join(m for m in late if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "" and out.stderr == ""


def test_the_first_tool_loads_the_schema_engine():
    code = ("import sys, toolkit\nbefore = 'toolkit.schema' in sys.modules\n"
            "@toolkit.tool\ndef f(x: int) -> int:\n    return x\n"
            "print(before, 'toolkit.schema' in sys.modules, f.parameters['properties']['x'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split(" ", 2) == ["False", "True", "{'type': 'integer'}\n"]
