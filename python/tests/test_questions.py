"""ask() blocks until a watcher answers; chat messages reach the task."""

from __future__ import annotations

import threading
import unittest
from concurrent.futures import Future
from typing import Any, Dict, List

import agentwire
from support import TOKEN, URL, Watcher, of_type, require_gateway


def setUpModule() -> None:
    require_gateway()


def in_thread(fn) -> "Future[Any]":
    """Runs ``fn`` on a thread (the watcher, while the agent blocks); the future holds its outcome."""
    future: "Future[Any]" = Future()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as err:  # noqa: BLE001 - handed to the test through the future
            future.set_exception(err)

    threading.Thread(target=run, daemon=True).start()
    return future


class QuestionsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.watcher = Watcher()
        self.aw = agentwire.connect(URL, TOKEN)
        self.addCleanup(self.aw.close)

    def answer_when_asked(self, stream: str, *answers: Any) -> "Future[List[Dict[str, Any]]]":
        """A watcher waiting for the question, then sending each answer in turn; the future holds
        the replies."""

        def watch() -> List[Dict[str, Any]]:
            asked = self.watcher.wait_for(stream, lambda evs: of_type(evs, "question:asked"))
            question_id = of_type(asked, "question:asked")[0]["data"]["questionId"]
            replies = []
            for answer in answers:
                status, body = self.watcher.command(
                    {
                        "type": "answer",
                        "stream": stream,
                        "questionId": question_id,
                        "answer": answer,
                    }
                )
                replies.append({"status": status, "body": body})
            return replies

        return in_thread(watch)

    def test_ask_blocks_until_a_watcher_answers(self) -> None:
        with self.aw.start_task("Questions") as task:
            with task.spawn_agent("researcher") as agent:
                watcher = self.answer_when_asked(task.stream, "maybe", "yes")
                answer = agent.ask(
                    "Include hosted offerings?",
                    options=["yes", {"value": "no", "label": "No thanks"}],
                )
                replies = watcher.result(30)
        self.assertEqual(answer.answer, "yes")
        self.assertEqual(answer.by, "alice")
        self.assertFalse(answer.timed_out)
        self.assertEqual(replies[0]["status"], 422)
        self.assertEqual(replies[0]["body"]["error"]["code"], "invalid_answer")
        self.assertEqual(replies[1]["status"], 200)
        asked = of_type(self.watcher.events(task.stream), "question:asked")[0]["data"]
        self.assertEqual(asked["agentId"], agent.id)
        self.assertEqual(asked["options"], [{"value": "yes"}, {"value": "no", "label": "No thanks"}])
        question = self.watcher.state(task.id)["questions"][answer.question_id]
        self.assertEqual(
            (question["status"], question["answer"], question["by"]),
            ("answered", "yes", "alice"),
        )

    def test_an_answer_checked_against_a_schema(self) -> None:
        schema = {
            "type": "object",
            "properties": {"budget": {"type": "integer", "minimum": 1}},
            "required": ["budget"],
        }
        with self.aw.start_task("Schema") as task:
            watcher = self.answer_when_asked(task.stream, {"budget": 0}, {"budget": 5})
            answer = task.ask("How many?", schema=schema)
            replies = watcher.result(30)
        self.assertEqual(answer.answer, {"budget": 5})
        self.assertEqual([r["status"] for r in replies], [422, 200])

    def test_a_schema_outside_the_subset_is_refused_when_asked(self) -> None:
        with self.aw.start_task("Bad schema") as task:
            with self.assertRaises(agentwire.AgentwireError) as caught:
                task.ask("Which?", schema={"$ref": "#/defs/x"})
        self.assertEqual(caught.exception.code, "invalid_payload")

    def test_an_unanswered_question_times_out_with_the_default(self) -> None:
        with self.aw.start_task("Timeout") as task:
            answer = task.ask("Anyone?", options=["yes", "no"], timeout=0.3, default="no")
        self.assertTrue(answer.timed_out)
        self.assertEqual(answer.answer, "no")
        answered = of_type(self.watcher.events(task.stream), "question:answered")
        self.assertEqual(len(answered), 1, "the gateway recorded the timeout once")
        self.assertIs(answered[0]["data"]["timedOut"], True)

    def test_chat_messages_reach_the_task_in_order(self) -> None:
        with self.aw.start_task("Chat") as task:
            self.assertTrue(self.aw.wait_connected(10))
            for text in ("Make it short", "And in French"):
                status, body = self.watcher.command({"type": "message", "stream": task.stream, "text": text})
                self.assertEqual(status, 200, body)
            received = []
            for message in task.messages(timeout=10):
                received.append(message)
                if len(received) == 2:
                    break
        self.assertEqual(
            [(m.text, m.sender) for m in received],
            [("Make it short", "alice"), ("And in French", "alice")],
        )
        self.assertEqual(self.watcher.types(task.stream).count("chat:message"), 2)


if __name__ == "__main__":
    unittest.main()
