"""Shared fixtures. ``SHARED`` is the shared/ folder beside the checkout (CI lays it out the same way)."""

from __future__ import annotations

import pathlib

import pytest
from hypothesis import HealthCheck, Phase, settings

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

settings.register_profile("ci", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])
settings.load_profile("ci")


@pytest.fixture(scope="session")
def shared() -> pathlib.Path:
    assert SHARED.is_dir(), f"{SHARED} is missing: the tests read conformance data from shared/ beside the checkout"
    return SHARED


@pytest.fixture(scope="session")
def _server():
    from toolkit.testing._server import LightLLMServer

    server = LightLLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def server(_server):
    """The LightLLM-protocol test server, with an empty script and request log."""
    _server.reset()
    yield _server
    _server.reset()


@pytest.fixture
def client(server):
    from toolkit import LightLLMClient

    with LightLLMClient(base_url=server.url, max_retries=0) as c:
        yield c


@pytest.fixture
def oai(server):
    from toolkit import OpenAICompatibleClient

    with OpenAICompatibleClient(base_url=server.url, max_retries=0) as c:
        yield c


@pytest.fixture(params=["generate", "openai"])
def any_client(request, server):
    """Each test runs with both clients: /generate (toolkit renders and parses) and /v1."""
    from toolkit import LightLLMClient, OpenAICompatibleClient

    cls = LightLLMClient if request.param == "generate" else OpenAICompatibleClient
    with cls(base_url=server.url, max_retries=0) as c:
        yield c


def call(name: str, /, **arguments) -> str:
    """A qwen25 tool call as a model writes it."""
    import json

    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"
