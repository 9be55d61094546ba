"""The producer's trace context: each event carries the W3C ``traceparent`` of the OpenTelemetry span
current where it was published, so a tracing backend follows it through the gateway to the watchers.

``opentelemetry-api`` is optional: without it, or outside any span, events carry no trace.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

_trace: Any
try:  # pragma: no cover - which branch runs depends on the environment
    from opentelemetry import trace as _trace
except ImportError:  # pragma: no cover
    _trace = None


def current_trace() -> Optional[Dict[str, str]]:
    """``{"traceparent", "tracestate"?}`` of the current span, or None."""
    if _trace is None:
        return None
    context = _trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    flags = int(context.trace_flags) & 0xFF
    out = {"traceparent": f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags:02x}"}
    state = context.trace_state.to_header() if context.trace_state else ""
    if state:
        out["tracestate"] = state
    return out
