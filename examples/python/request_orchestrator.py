"""Seed 002's request orchestrator, in Python on agentwire.

The seed streamed a request's progress from its agents through RabbitMQ to a Socket.IO room per
request, and took `start`, `cancel` and `feedback` back from the page. Here the orchestrator is an
agentwire worker for the kind `request` and the gateway does the rest: the page keeps seed 002's
client (`io(url, {path: '/progress/socket.io', query: {requestId}})`), its `start` runs
`handle_request` below with the request id as the task id, every step reaches the room as
`progress`, the thought agent's plan as `agent.completed`, the result as `request.completed`; its
`cancel` stops the request and its `feedback` answers the executor's question.

    pip install ./python
    AGENTWIRE_TOKEN=$(npx agentwire token --publish) python3 examples/python/request_orchestrator.py

`ORCHESTRATOR_STEP_SECONDS` sets how long each simulated step takes (default 0.5).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, Dict, List

import agentwire

STEP_SECONDS = float(os.environ.get("ORCHESTRATOR_STEP_SECONDS", "0.5"))


def plan(query: str) -> List[Dict[str, Any]]:
    """The thought agent's plan: the steps the executor runs, in order."""
    return [
        {"action": "web_search", "args": {"q": query}},
        {"action": "read_sources", "args": {"top": 3}},
        {"action": "write_summary", "args": {"words": 120}},
    ]


def run_step(step: Dict[str, Any], query: str, done: List[Any]) -> Any:
    """Stands in for the real tools: each returns what the next one reads."""
    action = step["action"]
    if action == "web_search":
        return {"hits": [f"{query}: overview", f"{query}: benchmarks", f"{query}: pricing"]}
    if action == "read_sources":
        return {"notes": [hit.split(": ")[1] for hit in done[-1]["hits"][: step["args"]["top"]]]}
    return {"summary": f"{query}, covering " + ", ".join(done[-1]["notes"]) + "."}


def handle_request(task: agentwire.Task, input: Dict[str, Any]) -> Dict[str, Any]:
    """One request, from seed 002's `start {requestId, userQuery, context}`."""
    input = input or {}
    query = input.get("userQuery") or "an empty query"
    context = input.get("context") or {}

    task.stage("plan", f"planning: {query}")
    with task.spawn_agent("thought-agent", role="planner") as thought:
        steps = plan(query)
        thought.complete({"plan": [s["action"] for s in steps]}, summary=f"{len(steps)} steps")

    task.stage("execute")
    with task.spawn_agent("executor-agent", role="executor", parent=thought) as executor:
        done: List[Any] = []
        for number, step in enumerate(steps, start=1):
            task.progress(
                round(100 * (number - 1) / len(steps)),
                f"step {number}: {step['action']}",
                current=number,
                total=len(steps),
            )
            with executor.tool(step["action"], step["args"]) as call:
                # The work itself; a cancel ends the wait at once, and the next call raises Cancelled.
                executor.signal.wait(STEP_SECONDS)
                call.result = run_step(step, query, done)
            done.append(call.result)
        if context.get("confirm"):
            # Seed 002's `feedback {requestId, questionId, answer}` answers this.
            answer = executor.ask("Publish the summary?", options=["yes", "no"], timeout=300, default="no")
            executor.log("info", f"publish: {answer.answer}", {"by": answer.by})
            published = answer.answer == "yes"
        else:
            published = True
        executor.complete({"steps": len(done)})

    task.stage("report")
    return {"query": query, "summary": done[-1]["summary"], "published": published}


def main() -> int:
    url = os.environ.get("AGENTWIRE_URL", "http://localhost:7070")
    aw = agentwire.connect(url, os.environ.get("AGENTWIRE_TOKEN"), name="request-orchestrator")
    aw.worker(capacity=8).handle("request", handle_request)
    signal.signal(signal.SIGTERM, lambda *_: aw.close())
    if not aw.wait_connected(10):
        print(f"could not reach the gateway at {url}", file=sys.stderr)
        aw.close()
        return 1
    print("orchestrator ready: waiting for requests", flush=True)
    try:
        aw.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        aw.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
