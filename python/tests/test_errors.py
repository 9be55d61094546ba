"""Refusals arrive as AgentwireError with the registry's code, at the call that caused them."""

from __future__ import annotations

import unittest

import agentwire
from agentwire import AgentwireError
from support import TOKEN, URL, WATCHER_TOKEN, Watcher, require_gateway


def setUpModule() -> None:
    require_gateway()


class ErrorsTest(unittest.TestCase):
    def test_a_refused_token_is_unauthorized(self) -> None:
        with agentwire.connect(URL, "not-a-token", commands=False) as aw:
            with self.assertRaises(AgentwireError) as caught:
                aw.start_task("Nope")
        self.assertEqual(caught.exception.code, "unauthorized")
        self.assertEqual(caught.exception.status, 401)

    def test_a_watcher_token_cannot_publish(self) -> None:
        with agentwire.connect(URL, WATCHER_TOKEN, commands=False) as aw:
            with self.assertRaises(AgentwireError) as caught:
                aw.start_task("Nope")
        self.assertIn(caught.exception.code, ("forbidden", "unauthorized"))

    def test_the_command_channel_reports_a_refused_token(self) -> None:
        statuses = []
        with agentwire.connect(
            URL, "not-a-token", on_command_status=lambda s, d: statuses.append((s, d))
        ) as aw:
            self.assertFalse(aw.wait_connected(5))
        self.assertTrue(
            any(s == "disconnected" and d and d.startswith("unauthorized") for s, d in statuses),
            statuses,
        )

    def test_bad_input_fails_at_the_call(self) -> None:
        with agentwire.connect(URL, TOKEN) as aw:
            with self.assertRaises(AgentwireError) as caught:
                aw.start_task("Bad id", task_id="a/b")
            self.assertEqual(caught.exception.code, "invalid_stream")
            task = aw.start_task("Bad input")
            with self.assertRaises(AgentwireError) as caught:
                task.log("warning", "not a level")
            self.assertEqual(caught.exception.code, "invalid_payload")
            with self.assertRaises(AgentwireError) as caught:
                task.custom("set", {1, 2})
            self.assertEqual(caught.exception.code, "invalid_payload")
            task.complete()

    def test_an_event_the_gateway_refuses_fails_alone(self) -> None:
        watcher = Watcher()
        with agentwire.connect(URL, TOKEN, commands=False) as aw:
            task = aw.start_task("One bad event")
            before = task.log("info", "before")
            bad = task.emit("agent:progress", {"agentId": "a", "percent": 250})
            unknown = task.emit("nope:never", {})
            after = task.log("info", "after")
            with self.assertRaises(AgentwireError) as caught:
                bad.result()
            self.assertEqual(
                (caught.exception.code, caught.exception.status),
                ("invalid_payload", 422),
            )
            with self.assertRaises(AgentwireError) as caught:
                unknown.result()
            self.assertEqual(caught.exception.code, "unknown_event_type")
            self.assertLess(before.result().seq, after.result().seq)
            task.complete()
        self.assertEqual(
            watcher.types(task.stream),
            ["task:start", "log:entry", "log:entry", "task:complete"],
        )

    def test_every_refusal_reaches_on_error(self) -> None:
        failed = []
        with agentwire.connect(
            URL,
            TOKEN,
            commands=False,
            on_error=lambda e, s, evs: failed.append((e.code, s, evs)),
        ) as aw:
            task = aw.start_task("Reported")
            task.emit("nope:never", {"x": 1})
            task.complete()
        self.assertEqual(len(failed), 1)
        code, stream, events = failed[0]
        self.assertEqual(
            (code, stream, events[0]["type"], events[0]["data"]),
            ("unknown_event_type", task.stream, "nope:never", {"x": 1}),
        )

    def test_ask_without_the_command_channel_is_no_producer(self) -> None:
        with agentwire.connect(URL, TOKEN, commands=False) as aw:
            task = aw.start_task("Nobody to answer")
            with self.assertRaises(AgentwireError) as caught:
                task.ask("Anyone?")
            self.assertEqual(caught.exception.code, "no_producer")
            task.complete()

    def test_the_error_type(self) -> None:
        err = AgentwireError.from_body(
            {"code": "rate_limited", "message": "slow down", "details": {"n": 1}},
            status=429,
        )
        self.assertEqual(
            (err.code, err.message, err.details, err.status, err.close_code),
            ("rate_limited", "slow down", {"n": 1}, 429, 4431),
        )
        self.assertEqual(AgentwireError.from_body({"code": "brand_new_code"}).code, "internal")
        self.assertEqual(AgentwireError("timeout").message, "Timed out.")
        self.assertFalse(
            issubclass(agentwire.Cancelled, Exception),
            "except Exception does not swallow a cancel",
        )


if __name__ == "__main__":
    unittest.main()
