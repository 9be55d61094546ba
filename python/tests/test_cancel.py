"""A watcher's cancel reaches the agent: raised at its next SDK call, and as a flag it can check."""

from __future__ import annotations

import time
import unittest

import agentwire
from agentwire import Cancelled
from support import TOKEN, URL, Watcher, of_type, require_gateway
from test_questions import in_thread


def setUpModule() -> None:
    require_gateway()


def endless_llm():
    """A model that never stops talking, a token every few milliseconds."""
    i = 0
    while True:
        yield f"tok{i} "
        i += 1
        time.sleep(0.005)


class CancelTest(unittest.TestCase):
    def setUp(self) -> None:
        self.watcher = Watcher()
        self.aw = agentwire.connect(URL, TOKEN)
        self.addCleanup(self.aw.close)

    def cancel_when(self, stream: str, ready, **command):
        def watch():
            self.watcher.wait_for(stream, ready)
            return self.watcher.command({"type": "cancel", "stream": stream, **command})

        return in_thread(watch)

    def test_a_cancel_raises_in_the_agent_at_its_next_call(self) -> None:
        raised = []
        with self.aw.start_task("Cancel me") as task:
            reply = self.cancel_when(
                task.stream,
                lambda evs: of_type(evs, "message:delta"),
                reason="wrong topic",
            )
            with task.spawn_agent("writer") as agent:
                try:
                    with agent.message() as message:
                        for token in endless_llm():
                            message.append(token)
                except Cancelled as err:
                    raised.append(err)
                    raise
                self.fail("the task's cancel ends the agent's block too")
        status, body = reply.result(30)
        self.assertEqual(status, 200, body)
        self.assertEqual(len(raised), 1)
        self.assertEqual(
            (raised[0].reason, raised[0].by, raised[0].task_id),
            ("wrong topic", "alice", task.id),
        )
        self.assertTrue(task.cancelled)
        self.assertTrue(task.ended)
        self.assertEqual((task.signal.reason, task.signal.by), ("wrong topic", "alice"))
        with self.assertRaises(Cancelled):
            task.log("info", "too late")
        types = self.watcher.types(task.stream)
        # What the agent published while stopping (the message's end) precedes the cancel; nothing follows it.
        self.assertEqual(types[-2:], ["message:end", "task:cancelled"])
        self.assertEqual(types.count("task:cancelled"), 1)
        state = self.watcher.state(task.id)
        self.assertEqual(
            (state["status"], state["cancelledBy"], state["cancelReason"]),
            ("cancelled", "alice", "wrong topic"),
        )
        self.assertEqual(state["agents"][agent.id]["status"], "cancelled")
        self.assertTrue(state["messages"][message.id]["done"])

    def test_a_loop_that_checks_the_flag(self) -> None:
        with self.aw.start_task("Check the flag") as task:
            reply = self.cancel_when(task.stream, lambda evs: of_type(evs, "task:progress"))
            task.progress(0, "working")
            while not task.signal.wait(0.01):
                pass  # a step of work that never calls the SDK
            self.assertTrue(task.cancelled)
            self.assertEqual(task.signal.by, "alice")
        self.assertEqual(reply.result(30)[0], 200)
        self.assertEqual(self.watcher.types(task.stream)[-1], "task:cancelled")

    def test_a_cancel_ends_a_waiting_ask(self) -> None:
        with self.aw.start_task("Cancel while asking") as task:
            reply = self.cancel_when(task.stream, lambda evs: of_type(evs, "question:asked"))
            with self.assertRaises(Cancelled):
                task.ask("Shall I go on?", options=["yes", "no"])
            self.assertEqual(reply.result(30)[0], 200)
        self.assertEqual(self.watcher.state(task.id)["status"], "cancelled")

    def test_a_tool_in_flight_is_closed_by_the_cancel(self) -> None:
        with self.aw.start_task("Cancel a tool") as task:
            reply = self.cancel_when(task.stream, lambda evs: of_type(evs, "tool:executing"))
            with task.spawn_agent("fetcher") as agent:
                with agent.tool("slow_fetch", {"url": "https://example.com"}) as call:
                    task.signal.wait(30)
                    agent.log("info", "never published")
        self.assertEqual(reply.result(30)[0], 200)
        types = self.watcher.types(task.stream)
        self.assertNotIn("tool:failed", types)
        self.assertNotIn("log:entry", types)
        self.assertEqual(types[-1], "task:cancelled")
        self.assertEqual(self.watcher.state(task.id)["tools"][call.id]["status"], "cancelled")

    def test_cancelling_one_agent_leaves_the_task_running(self) -> None:
        with self.aw.start_task("Cancel one agent") as task:
            keep = task.spawn_agent("keeper")
            with task.spawn_agent("stray") as stray:
                reply = self.cancel_when(
                    task.stream,
                    lambda evs: of_type(evs, "log:entry"),
                    agentId=stray.id,
                    reason="off track",
                )
                stray.log("info", "wandering")
                stray.signal.wait(30)
                stray.log("info", "never published")
            self.assertTrue(stray.cancelled)
            self.assertFalse(task.cancelled)
            with keep:
                keep.log("info", "still here")
        self.assertEqual(reply.result(30)[0], 200)
        state = self.watcher.state(task.id)
        self.assertEqual(state["status"], "completed")
        self.assertEqual(state["agents"][stray.id]["status"], "cancelled")
        self.assertEqual(state["agents"][keep.id]["status"], "completed")

    def test_cancel_from_the_producer(self) -> None:
        task = self.aw.start_task("Cancelled here")
        seen = []
        task.signal.add_callback(lambda: seen.append(task.signal.reason))
        task.cancel("changed my mind", by="the agent")
        self.assertEqual(seen, ["changed my mind"])
        with self.assertRaises(Cancelled):
            task.spawn_agent("late")
        self.assertEqual(self.watcher.state(task.id)["cancelledBy"], "the agent")


if __name__ == "__main__":
    unittest.main()
