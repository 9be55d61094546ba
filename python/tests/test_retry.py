"""A batch whose answer was lost is sent again with the same event ids, and stored once."""

from __future__ import annotations

import socket
import unittest

import agentwire
from agentwire.retry import RetryPolicy, backoff_delay, retry_delay
from support import TOKEN, URL, LossyProxy, Watcher, require_gateway


def setUpModule() -> None:
    require_gateway()


class RetryTest(unittest.TestCase):
    def test_a_retried_batch_is_stored_once(self) -> None:
        watcher = Watcher()
        proxy = LossyProxy(URL)
        self.addCleanup(proxy.close)
        with agentwire.connect(proxy.url, TOKEN, commands=False) as aw:
            task = aw.start_task("Lossy network")
            agent = task.spawn_agent("logger")
            # The gateway stores the next batch, and its answer is lost on the way back.
            proxy.lose_next_answers(1)
            futures = [agent.log("info", f"line {i}") for i in range(20)]
            acks = [f.result(30) for f in futures]
            task.complete()
        self.assertEqual(proxy.lost, 1)
        self.assertTrue(
            all(ack.duplicate for ack in acks[:1]),
            "the first event went in before the answer was lost",
        )
        self.assertTrue(any(ack.duplicate for ack in acks))
        events = watcher.events(task.stream)
        lines = [e for e in events if e["type"] == "log:entry"]
        self.assertEqual([e["data"]["message"] for e in lines], [f"line {i}" for i in range(20)])
        self.assertEqual([e["id"] for e in lines], [ack.id for ack in acks])
        self.assertEqual([e["seq"] for e in lines], [ack.seq for ack in acks])
        self.assertEqual(len({e["id"] for e in events}), len(events), "no event stored twice")
        self.assertEqual([e["seq"] for e in events], list(range(1, len(events) + 1)))

    def test_an_unreachable_gateway_fails_after_the_retries(self) -> None:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            nowhere = f"http://127.0.0.1:{unused.getsockname()[1]}"
        failed = []
        with agentwire.connect(
            nowhere,
            TOKEN,
            commands=False,
            retry=RetryPolicy(attempts=3, base_delay=0.01),
            on_error=lambda err, stream, events: failed.append((err.code, len(events))),
        ) as aw:
            with self.assertRaises(agentwire.AgentwireError) as caught:
                aw.start_task("Nowhere")
        self.assertEqual(caught.exception.code, "unavailable")
        self.assertEqual(failed, [("unavailable", 1)])

    def test_backoff(self) -> None:
        policy = RetryPolicy(attempts=4, base_delay=0.1, max_delay=0.3)
        unavailable = agentwire.AgentwireError("unavailable")
        # Full jitter: uniform in [0, ceiling], the ceiling doubling from base_delay up to max_delay.
        self.assertEqual(retry_delay(1, unavailable, policy, lambda: 0.0), 0.1)
        self.assertAlmostEqual(retry_delay(2, unavailable, policy, lambda: 0.5), 0.1)
        self.assertEqual(retry_delay(3, unavailable, policy, lambda: 0.0), 0.3)
        self.assertEqual(retry_delay(3, unavailable, policy, lambda: 1.0), 0.0)
        self.assertEqual(backoff_delay(0, 0.1, 5.0, lambda: 0.0), 0.1)
        self.assertEqual(backoff_delay(10, 0.1, 5.0, lambda: 0.0), 5.0)
        self.assertEqual(backoff_delay(0, 0.1, 0.01, lambda: 0.0), 0.1)
        self.assertIsNone(retry_delay(4, unavailable, policy))
        self.assertIsNone(retry_delay(1, agentwire.AgentwireError("invalid_payload"), policy))
        hinted = agentwire.AgentwireError("rate_limited", retry_after=2.0)
        self.assertEqual(retry_delay(1, hinted, policy, lambda: 0.0), 2.0)
        self.assertIsNone(retry_delay(1, agentwire.AgentwireError("rate_limited", retry_after=600.0), policy))


if __name__ == "__main__":
    unittest.main()
