"""A task's life as a watcher sees it: start, stages, progress, agents, logs, the end."""

from __future__ import annotations

import subprocess
import sys
import unittest

import agentwire
from support import TOKEN, URL, Watcher, of_type, require_gateway


def setUpModule() -> None:
    require_gateway()


class LifecycleTest(unittest.TestCase):
    def setUp(self) -> None:
        self.watcher = Watcher()
        self.aw = agentwire.connect(URL, TOKEN, name="python-lifecycle")
        self.addCleanup(self.aw.close)

    def test_a_task_from_start_to_completion(self) -> None:
        with self.aw.start_task(
            "Compare vector databases", stages=["search", "write"], project_id="acme"
        ) as task:
            task.stage("search", "looking around")
            task.progress(25, "a quarter", current=1, total=4)
            with task.spawn_agent("planner", role="lead", model="model-large") as planner:
                planner.progress("thinking", activity="reading the brief", percent=10)
                planner.log("info", "plan ready", {"steps": 2})
                with task.spawn_agent("researcher", parent=planner) as researcher:
                    researcher.log("debug", "found 3")
                    planner.handoff(researcher, "go find them", {"budget": 3})
                    researcher.recall(
                        [{"content": "pgvector is a Postgres extension", "score": 0.9}],
                        query="pg",
                    )
            task.stage("write")
            task.log("warn", "running late")
            task.custom("shortlist", {"n": 2})

        self.assertTrue(task.ended)
        self.assertFalse(task.cancelled)
        self.assertEqual(
            self.watcher.types(task.stream),
            [
                "task:start",
                "task:stage",
                "task:progress",
                "agent:spawned",
                "agent:progress",
                "log:entry",
                "agent:spawned",
                "log:entry",
                "agent:handoff",
                "memory:recalled",
                "agent:complete",
                "agent:complete",
                "task:stage",
                "log:entry",
                "custom:event",
                "task:complete",
            ],
        )
        state = self.watcher.state(task.id)
        self.assertEqual(state["status"], "completed")
        self.assertEqual(state["title"], "Compare vector databases")
        self.assertEqual(state["projectId"], "acme")
        self.assertEqual(state["stages"], ["search", "write"])
        self.assertEqual(state["stage"], "write")
        self.assertEqual(state["memoriesRecalled"], 1)
        planner_state = state["agents"][planner.id]
        self.assertEqual(
            (planner_state["name"], planner_state["model"], planner_state["role"]),
            ("planner", "model-large", "lead"),
        )
        self.assertEqual(state["agents"][researcher.id]["parentId"], planner.id)
        self.assertEqual([a["status"] for a in state["agents"].values()], ["completed", "completed"])
        self.assertEqual(
            [(log["level"], log["message"]) for log in state["logs"]],
            [("info", "plan ready"), ("debug", "found 3"), ("warn", "running late")],
        )

    def test_the_ids_are_uuidv7_and_events_go_in_with_them(self) -> None:
        task = self.aw.start_task("Ids")
        ack = task.log("info", "one").result()
        task.complete()
        events = self.watcher.events(task.stream)
        self.assertRegex(
            task.id,
            r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        )
        self.assertEqual(events[1]["id"], ack.id)
        self.assertEqual(events[1]["seq"], ack.seq)
        self.assertFalse(ack.duplicate)
        self.assertEqual(
            sorted(e["id"] for e in events),
            [e["id"] for e in events],
            "ids grow with time",
        )

    def test_an_exception_fails_the_task_and_its_agent_and_propagates(self) -> None:
        with self.assertRaises(KeyError):
            with self.aw.start_task("Doomed") as task:
                with task.spawn_agent("coder"):
                    raise KeyError("no such file")
        state = self.watcher.state(task.id)
        self.assertEqual(state["status"], "failed")
        self.assertEqual(state["error"], {"message": "'no such file'"})
        self.assertEqual([a["status"] for a in state["agents"].values()], ["failed"])

    def test_explicit_endings_and_results(self) -> None:
        task = self.aw.start_task("Explicit", input={"q": "x"}, kind="research", estimated=1.5)
        agent = task.spawn_agent("writer")
        self.assertIsInstance(agent.complete({"words": 3}, summary="wrote it"), int)
        seq = task.complete({"ok": True}, summary="done")
        events = self.watcher.events(task.stream)
        self.assertEqual(events[-1]["seq"], seq)
        self.assertEqual(
            events[0]["data"],
            {
                "taskId": task.id,
                "title": "Explicit",
                "kind": "research",
                "input": {"q": "x"},
                "estimatedMs": 1500,
            },
        )
        self.assertEqual(
            of_type(events, "agent:complete")[0]["data"],
            {"agentId": agent.id, "result": {"words": 3}, "summary": "wrote it"},
        )
        self.assertEqual(events[-1]["data"], {"result": {"ok": True}, "summary": "done"})

    def test_raw_events_to_any_stream(self) -> None:
        alert = {
            "type": "custom:event",
            "data": {"name": "deploy", "payload": {"v": 2}},
            "id": "py-deploy-1",
        }
        futures = self.aw.publish("project:acme", [alert])
        ack = futures[0].result()
        self.assertEqual(ack.id, "py-deploy-1")
        again = self.aw.publish("project:acme", [alert])
        self.assertEqual(
            again[0].result(),
            agentwire.Ack("py-deploy-1", ack.seq, True),
            "the same id is stored once",
        )
        with self.assertRaises(agentwire.AgentwireError) as caught:
            self.aw.publish("Project:acme", [alert])
        self.assertEqual(caught.exception.code, "invalid_stream")

    def test_a_script_that_forgets_close_still_delivers_its_events(self) -> None:
        script = (
            "import os, agentwire\n"
            "env = os.environ\n"
            "aw = agentwire.connect(env['AGENTWIRE_URL'], env['AGENTWIRE_TOKEN'], commands=False)\n"
            "task = aw.start_task('Forgot to close')\n"
            "for i in range(300):\n"
            "    task.log('info', f'line {i}')\n"
            "task.emit('task:complete', {})\n"
            "print(task.id)\n"
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        state = self.watcher.state(done.stdout.strip())
        self.assertEqual((state["status"], state["eventCount"]), ("completed", 302))


if __name__ == "__main__":
    unittest.main()
