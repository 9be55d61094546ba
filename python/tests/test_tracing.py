"""Events carry the W3C traceparent of the current OpenTelemetry span when opentelemetry-api is
installed, and nothing without it.

opentelemetry-api comes from a package index this suite does not reach, so the tests give the SDK
a stand-in with the slice of that API it reads (``trace.get_current_span()`` and the span context's
fields, as opentelemetry-api defines them), installed on ``sys.path`` for the duration of a test.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
import textwrap
import unittest
from typing import Iterator

import agentwire
import agentwire.outbox
import agentwire.tracing
from support import TOKEN, URL, WATCHER_TOKEN, Watcher, of_type

# Mirrors TRACEPARENT_PATTERN of @agentwire/protocol.
TRACEPARENT = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")

STAND_IN = textwrap.dedent(
    '''
    import contextlib

    class TraceFlags(int):
        SAMPLED = 0x01

    class TraceState(dict):
        def to_header(self):
            return ",".join(f"{k}={v}" for k, v in self.items())

    class SpanContext:
        def __init__(self, trace_id, span_id, trace_flags=TraceFlags(0), trace_state=None):
            self.trace_id = trace_id
            self.span_id = span_id
            self.trace_flags = trace_flags
            self.trace_state = trace_state if trace_state is not None else TraceState()
            self.is_valid = trace_id != 0 and span_id != 0

    class Span:
        def __init__(self, context):
            self._context = context

        def get_span_context(self):
            return self._context

    INVALID_SPAN = Span(SpanContext(0, 0))
    _current = [INVALID_SPAN]

    def get_current_span(context=None):
        return _current[-1]

    @contextlib.contextmanager
    def use_span(span):
        _current.append(span)
        try:
            yield span
        finally:
            _current.pop()
    '''
)


@contextlib.contextmanager
def opentelemetry_installed() -> Iterator[object]:
    """Makes ``from opentelemetry import trace`` find the stand-in, and the SDK import it afresh."""
    with tempfile.TemporaryDirectory() as root:
        package = os.path.join(root, "opentelemetry")
        os.mkdir(package)
        with open(os.path.join(package, "__init__.py"), "w", encoding="utf-8"):
            pass
        with open(os.path.join(package, "trace.py"), "w", encoding="utf-8") as f:
            f.write(STAND_IN)
        saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] == "opentelemetry"}
        for k in saved:
            del sys.modules[k]
        sys.path.insert(0, root)
        try:
            # The SDK's modules call current_trace() through tracing.py's globals: reloading it
            # alone switches every one of them over.
            importlib.reload(agentwire.tracing)
            yield importlib.import_module("opentelemetry.trace")
        finally:
            sys.path.remove(root)
            for k in [k for k in sys.modules if k.split(".")[0] == "opentelemetry"]:
                del sys.modules[k]
            sys.modules.update(saved)
            importlib.reload(agentwire.tracing)


TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_ID = 0x00F067AA0BA902B7


class TracingTest(unittest.TestCase):
    def test_without_opentelemetry_events_carry_no_trace(self) -> None:
        try:
            import opentelemetry.trace  # noqa: F401
        except ImportError:
            self.assertIsNone(agentwire.tracing.current_trace())
            self.assertNotIn("trace", agentwire.outbox.prepare("log:entry", {"message": "m"}))
        else:  # pragma: no cover - an environment with the real API installed
            self.skipTest("opentelemetry-api is installed here")

    def test_events_carry_the_current_span(self) -> None:
        with opentelemetry_installed() as otel:
            t = otel
            self.assertNotIn("trace", agentwire.outbox.prepare("log:entry", {"message": "outside"}))
            state = t.TraceState(congo="t61rcWkgMzE")  # type: ignore[attr-defined]
            context = t.SpanContext(TRACE_ID, SPAN_ID, t.TraceFlags(1), state)  # type: ignore[attr-defined]
            with t.use_span(t.Span(context)):  # type: ignore[attr-defined]
                event = agentwire.outbox.prepare("log:entry", {"message": "inside"})
                given = {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-00"}
                own = agentwire.outbox.prepare("log:entry", {}, trace=given)
            self.assertEqual(
                event["trace"],
                {
                    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    "tracestate": "congo=t61rcWkgMzE",
                },
            )
            self.assertRegex(event["trace"]["traceparent"], TRACEPARENT)
            self.assertEqual(own["trace"], given)
            # Unsampled, without trace state: flags 00 and no tracestate.
            with t.use_span(t.Span(t.SpanContext(1, 2))):  # type: ignore[attr-defined]
                self.assertEqual(
                    agentwire.tracing.current_trace(),
                    {"traceparent": f"00-{1:032x}-{2:016x}-00"},
                )

    @unittest.skipUnless(URL and TOKEN and WATCHER_TOKEN, "needs the gateway python-sdk.test.ts starts")
    def test_the_gateway_stores_and_delivers_the_trace(self) -> None:
        with opentelemetry_installed() as t:
            context = t.SpanContext(TRACE_ID, SPAN_ID, t.TraceFlags(1))  # type: ignore[attr-defined]
            with agentwire.connect(URL, TOKEN) as aw:
                with aw.start_task("Traced") as task:
                    with t.use_span(t.Span(context)):  # type: ignore[attr-defined]
                        task.log("info", "inside a span").result(10)
        logs = of_type(Watcher().events(task.stream), "log:entry")
        self.assertEqual(
            logs[0].get("trace"),
            {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
        )


if __name__ == "__main__":
    unittest.main()
