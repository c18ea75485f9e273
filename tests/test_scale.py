"""Beyond one machine: run_many on a real Dask LocalCluster (a worker killed mid-run), a fleet of
LightLLM servers (one stopped mid-run), and the batch command. Kept few and short."""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import threading

import pytest

from toolkit import LightLLMClient, run_many, tool
from toolkit.testing import LightLLMTestServer, scripted_model
from toolkit.testing._demo import get_weather

from .conftest import ROOT


def test_run_many_on_a_dask_cluster_survives_a_killed_worker(server):
    import distributed
    server.script([scripted_model([get_weather])] * 1000)
    prompts = [f"Weather in city {i}?" for i in range(200)]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=4, processes=True, dashboard_address=":0",
                                  silence_logs=50) as cluster, distributed.Client(cluster) as dask:
        pids = dask.run(os.getpid)
        done: list[int] = []
        killed = threading.Event()

        def on_result(index, result):
            done.append(index)
            if len(done) == 40 and not killed.is_set():
                killed.set()
                os.kill(next(iter(pids.values())), 9)  # distributed reschedules its tasks

        with LightLLMClient(base_url=server.url, max_retries=2) as client:
            results = run_many(prompts, [get_weather], client=client, executor=dask.get_executor(),
                               on_result=on_result, max_steps=3)
    assert killed.is_set() and len(results) == 200 and sorted(done)[-1] == 199
    for i, result in enumerate(results):
        assert result.messages[0]["content"] == f"Weather in city {i}?"  # in input order
        assert [r.name for r in result.tool_calls] == ["get_weather"] and result.output.startswith("(scripted")


def test_unpicklable_tools_are_refused_up_front(server):
    import concurrent.futures

    local = tool(lambda city: city, name="local")
    with concurrent.futures.ProcessPoolExecutor(1) as pool, LightLLMClient(base_url=server.url) as client:
        with pytest.raises(ValueError, match="tool 'local' cannot be sent to the executor's workers"):
            run_many(["x"], [local], client=client, executor=pool)
    assert server.posts == []


def test_a_result_that_cannot_be_sent_back_names_its_tool(server):
    """A tool on a worker returned an object that does not pickle: a ValueError naming the tool,
    whose .result is the run with that value left out (what the model read is kept)."""
    import concurrent.futures
    import multiprocessing

    from .remote_tools import make_lock

    server.script([scripted_model([make_lock])] * 4)
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool, \
            LightLLMClient(base_url=server.url) as client:
        results = run_many(["lock it"], [make_lock], client=client, executor=pool, return_exceptions=True)
    (error,) = results
    assert isinstance(error, ValueError) and "tool 'make_lock' cannot be sent back" in str(error)
    assert len(server.posts) == 2  # the conversation's own error: not submitted again
    (record,) = error.result.tool_calls
    assert record.name == "make_lock" and record.result is None and "lock" in record.content.lower()
    assert error.result.output.startswith("(scripted answer)")


class _LosingExecutor(concurrent.futures.ThreadPoolExecutor):
    """A thread pool that loses the first ``losses`` submissions, as a cluster loses the result a
    killed worker held (distributed's executor can then fail the future with an error of its own)."""

    def __init__(self, losses: int) -> None:
        super().__init__(2)
        self.losses = losses
        self.submitted = 0

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        self.submitted += 1
        if self.losses:
            self.losses -= 1
            lost: concurrent.futures.Future = concurrent.futures.Future()
            lost.set_exception(RuntimeError("the worker holding the result died"))
            return lost
        return super().submit(fn, *args, **kwargs)


def test_a_conversation_the_executor_loses_is_submitted_once_more(server):
    server.script([scripted_model([get_weather])] * 20)
    with _LosingExecutor(losses=1) as pool, LightLLMClient(base_url=server.url) as client:
        results = run_many(["q0", "q1", "q2"], [get_weather], client=client, executor=pool)
    assert [r.messages[0]["content"] for r in results] == ["q0", "q1", "q2"]
    assert all(r.output.startswith("(scripted") for r in results)
    assert pool.submitted == 4 and len(server.posts) == 6  # one more submission, no conversation run twice


def test_a_conversation_lost_twice_gives_the_executors_error(server):
    with _LosingExecutor(losses=2) as pool, LightLLMClient(base_url=server.url) as client:
        results = run_many(["q0"], [get_weather], client=client, executor=pool, return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and "worker holding the result died" in str(results[0])
    assert pool.submitted == 2 and server.posts == []


def test_a_fleet_finishes_every_conversation_with_one_server_stopped():
    servers = [LightLLMTestServer().start() for _ in range(3)]
    for s in servers:
        s.script([scripted_model([get_weather])] * 500)
    urls = [s.base_url for s in servers]
    try:
        with LightLLMClient(base_url=urls, max_retries=3) as client:
            assert client.health_by_endpoint() == {url: True for url in urls}
            stopper = threading.Timer(0.2, servers[1].stop)
            stopper.start()
            results = run_many([f"q{i}" for i in range(120)], [get_weather], client=client, max_workers=8)
            stopper.join()
            health = client.health_by_endpoint()
        assert all(r.output.startswith("(scripted") for r in results) and len(results) == 120
        assert health[urls[1]] is False and health[urls[0]] is True
        used = [len(s.posts) for s in servers]
        assert used[0] > 0 and used[2] > 0 and sum(used) >= 240  # spread over the servers
    finally:
        for s in servers:
            s.stop()


def test_fleet_prefers_the_least_busy_endpoint_and_skips_a_503(monkeypatch):
    from toolkit.testing import Fault, Reply

    with LightLLMTestServer() as a, LightLLMTestServer() as b:
        a.script([Fault("status", status=503)] + ["from a"] * 10)
        b.script([Reply("from b", delay=0.3)] + ["from b"] * 10)
        with LightLLMClient(base_url=f"{a.base_url},{b.base_url}", max_retries=2) as client:
            first = client.chat.completions.create(messages=[{"role": "user", "content": "x"}])
            # a answered 503 first: cooled down, the retry went to b at once
            assert first.choices[0].message.content == "from b"
            assert [len(a.posts), len(b.posts)] == [1, 1]
        monkeypatch.setenv("LIGHTLLM_BASE_URL", f"{a.base_url}, {b.base_url}")
        assert LightLLMClient().base_urls == [a.base_url, b.base_url]


def test_batch_command_is_resumable(server, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("\n".join([json.dumps("Weather in Paris?"), json.dumps([{"role": "user", "content": "Rome?"}]),
                                  json.dumps({"messages": [{"role": "user", "content": "Oslo?"}]})]) + "\n")
    out = tmp_path / "results.jsonl"
    server.script([scripted_model([get_weather])] * 20)
    cmd = [sys.executable, "-m", "toolkit", "batch", "toolkit.testing._demo", str(prompts), "--out", str(out),
           "--base-url", server.url, "--workers", "2"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["index"] for line in sorted(lines, key=lambda x: x["index"])] == [0, 1, 2]
    assert all(line["stop_reason"] == "stop" and line["tool_calls"][0]["name"] == "get_weather" for line in lines)
    assert all(line["usage"]["total_tokens"] > 0 and line["error"] is None for line in lines)
    assert "3/3" in first.stderr
    posts = len(server.posts)
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert again.returncode == 0 and len(server.posts) == posts  # nothing run twice
    assert len(out.read_text().splitlines()) == 3 and "3 already done" in again.stderr
