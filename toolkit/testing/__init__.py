"""Testing your tools and agents without a GPU.

- ``ScriptedClient(outputs)`` / ``FunctionClient(fn)``: drop-in clients for ``run()`` that answer
  from a script, recording every request (no server at all).
- ``LightLLMTestServer``: a real-HTTP LightLLM-protocol server on 127.0.0.1 (an ephemeral port)
  whose model is a script, with fault injection (``Fault``) and a log of every request; the
  project's own test suite runs against it.
"""

from __future__ import annotations

from ._clients import FunctionClient, ScriptedClient, ScriptedRequest
from ._demo import example_arguments, scripted_model
from ._server import Fault, LightLLMServer, Recorded, Reply

#: The shipped LightLLM-protocol test server.
LightLLMTestServer = LightLLMServer

__all__ = ["Fault", "FunctionClient", "LightLLMServer", "LightLLMTestServer", "Recorded", "Reply",
           "ScriptedClient", "ScriptedRequest", "example_arguments", "scripted_model"]
