"""Tool calls as context managers: a result completes them, an exception fails them."""

from __future__ import annotations

import unittest

import agentwire
from support import TOKEN, URL, Watcher, of_type, require_gateway


def setUpModule() -> None:
    require_gateway()


class ToolsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.watcher = Watcher()
        self.aw = agentwire.connect(URL, TOKEN)
        self.addCleanup(self.aw.close)

    def test_a_tool_span_completes_with_its_result(self) -> None:
        with self.aw.start_task("Tools") as task:
            with task.spawn_agent("researcher") as agent:
                with agent.tool("web_search", {"q": "vector db"}) as call:
                    call.result = {"hits": ["pgvector", "qdrant"]}
                with agent.tool("noop") as quiet:
                    pass
        events = self.watcher.events(task.stream)
        executing = of_type(events, "tool:executing")
        complete = of_type(events, "tool:complete")
        self.assertEqual(
            executing[0]["data"],
            {
                "callId": call.id,
                "tool": "web_search",
                "agentId": agent.id,
                "args": {"q": "vector db"},
            },
        )
        self.assertEqual(complete[0]["data"]["result"], {"hits": ["pgvector", "qdrant"]})
        self.assertGreaterEqual(complete[0]["data"]["durationMs"], 0)
        self.assertNotIn("result", complete[1]["data"])
        state = self.watcher.state(task.id)
        self.assertEqual(state["toolOrder"], [call.id, quiet.id])
        self.assertEqual(state["tools"][call.id]["status"], "completed")

    def test_an_exception_fails_the_tool_and_propagates(self) -> None:
        with self.aw.start_task("Failing tool") as task:
            with task.spawn_agent("coder") as agent:
                with self.assertRaises(TimeoutError):
                    with agent.tool(
                        "fetch",
                        {"url": "https://example.com"},
                        retryable=lambda e: isinstance(e, TimeoutError),
                    ):
                        raise TimeoutError("upstream took too long")
                with agent.tool(
                    "fetch",
                    {"url": "https://example.com"},
                    call_id="fetch-1",
                    attempt=2,
                ) as retried:
                    retried.result = "ok"
        events = self.watcher.events(task.stream)
        failed = of_type(events, "tool:failed")[0]["data"]
        self.assertEqual(failed["error"], {"message": "upstream took too long"})
        self.assertIs(failed["retryable"], True)
        self.assertEqual(failed["tool"], "fetch")
        self.assertEqual(of_type(events, "tool:executing")[1]["data"]["attempt"], 2)
        self.assertEqual(
            self.watcher.state(task.id)["status"],
            "completed",
            "a caught tool failure does not fail the task",
        )

    def test_a_tool_opened_and_closed_by_hand(self) -> None:
        task = self.aw.start_task("By hand")
        agent = task.spawn_agent("worker")
        call = agent.tool("sum", [1, 2])
        seq = call.complete(3)
        other = agent.tool("divide", [1, 0])
        other.fail(ZeroDivisionError("division by zero"), retryable=False)
        with self.assertRaises(RuntimeError):
            call.complete(4)
        task.complete()
        state = self.watcher.state(task.id)
        self.assertEqual(state["tools"][call.id]["result"], 3)
        self.assertEqual(state["tools"][other.id]["status"], "failed")
        self.assertIsInstance(seq, int)


if __name__ == "__main__":
    unittest.main()
