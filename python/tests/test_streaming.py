"""Token streaming: a message watchers see grow delta by delta, always ended."""

from __future__ import annotations

import unittest

import agentwire
from support import TOKEN, URL, Watcher, of_type, require_gateway


def setUpModule() -> None:
    require_gateway()


def fake_llm(text: str):
    """Yields a reply word by word, the way an LLM client's stream does."""
    for word in text.split(" "):
        yield word + " "


class StreamingTest(unittest.TestCase):
    def setUp(self) -> None:
        self.watcher = Watcher()
        self.aw = agentwire.connect(URL, TOKEN)
        self.addCleanup(self.aw.close)

    def test_tokens_appended_to_a_message(self) -> None:
        with self.aw.start_task("Streaming") as task:
            with task.spawn_agent("writer") as agent:
                with agent.message() as reply:
                    for token in fake_llm("pgvector keeps vectors next to the rows they describe"):
                        reply.append(token)
                    reply.append("")
        events = self.watcher.events(task.stream)
        deltas = of_type(events, "message:delta")
        self.assertEqual(len(deltas), 9)
        self.assertEqual(
            of_type(events, "message:start")[0]["data"],
            {"messageId": reply.id, "role": "assistant", "agentId": agent.id},
        )
        self.assertEqual(of_type(events, "message:end")[0]["data"], {"messageId": reply.id})
        message = self.watcher.state(task.id)["messages"][reply.id]
        self.assertEqual(message["text"], reply.text)
        self.assertEqual(message["text"], "pgvector keeps vectors next to the rows they describe ")
        self.assertTrue(message["done"])

    def test_stream_message_drains_an_iterator(self) -> None:
        with self.aw.start_task("Stream a generator") as task:
            with task.spawn_agent("writer") as agent:
                text = agent.stream_message(fake_llm("one two three"), role="assistant", message_id="m-1")
        self.assertEqual(text, "one two three ")
        self.assertEqual(self.watcher.state(task.id)["messages"]["m-1"]["text"], text)

    def test_a_failing_source_still_ends_the_message(self) -> None:
        def broken():
            yield "half "
            raise ConnectionError("the model hung up")

        with self.aw.start_task("Broken stream") as task:
            with task.spawn_agent("writer") as agent:
                with self.assertRaises(ConnectionError):
                    agent.stream_message(broken())
        types = self.watcher.types(task.stream)
        self.assertEqual(
            types[types.index("message:start") :][:3],
            ["message:start", "message:delta", "message:end"],
        )

    def test_many_tokens_in_order(self) -> None:
        with self.aw.start_task("Many tokens") as task:
            with task.spawn_agent("writer") as agent:
                with agent.message() as reply:
                    for i in range(2000):
                        reply.append(f"{i} ")
        self.assertEqual(
            self.watcher.state(task.id)["messages"][reply.id]["text"],
            "".join(f"{i} " for i in range(2000)),
        )


if __name__ == "__main__":
    unittest.main()
