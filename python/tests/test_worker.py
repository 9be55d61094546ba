"""A Python worker: tasks of its kind started by watchers run its handler."""

from __future__ import annotations

import unittest

import agentwire
from support import TOKEN, URL, Watcher, require_gateway


def setUpModule() -> None:
    require_gateway()


class WorkerTest(unittest.TestCase):
    def test_a_start_runs_the_handler_and_its_result_completes_the_task(self) -> None:
        watcher = Watcher()

        def summarize(task: agentwire.Task, input):
            with task.spawn_agent("summarizer") as agent:
                with agent.tool("count_words", input) as call:
                    call.result = len(input["text"].split())
            return {"words": call.result}

        def explode(task: agentwire.Task, input):
            raise ValueError("cannot do that")

        with agentwire.connect(URL, TOKEN, name="py-worker") as aw:
            aw.handle("py-summarize", summarize).handle("py-explode", explode)
            self.assertTrue(aw.wait_connected(10))
            status, started = watcher.request(
                "POST",
                "/v1/tasks",
                {
                    "title": "Summarize",
                    "kind": "py-summarize",
                    "input": {"text": "one two three"},
                },
            )
            self.assertEqual(status, 201, started)
            done = watcher.wait_for(
                started["stream"],
                lambda evs: evs and evs[-1]["type"] == "task:complete",
            )
            self.assertEqual(done[-1]["data"], {"result": {"words": 3}})
            self.assertEqual(done[0]["data"]["kind"], "py-summarize")

            status, started = watcher.command({"type": "start", "kind": "py-explode", "title": "Explode"})
            self.assertEqual(status, 200, started)
            failed = watcher.wait_for(
                started["result"]["stream"],
                lambda evs: evs and evs[-1]["type"] == "task:failed",
            )
            self.assertEqual(failed[-1]["data"]["error"], {"message": "cannot do that"})

            status, refused = watcher.command({"type": "start", "kind": "py-unknown"})
            self.assertEqual((status, refused["error"]["code"]), (503, "no_worker"))


if __name__ == "__main__":
    unittest.main()
