"""One tool invocation: opened by ``tool:executing``, closed by ``tool:complete`` or ``tool:failed``."""

from __future__ import annotations

import time
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Callable, Dict, Optional, Type, Union

from .cancel import CancelSignal
from .error_info import to_error_info
from .errors import Cancelled
from .outbox import Ack
from .stream import TaskStream

_UNSET: Any = object()

Retryable = Union[bool, Callable[[BaseException], bool], None]


class ToolCall:
    """A tool call span. As a context manager it completes with ``call.result`` when the block ends,
    or fails with the exception that ended it (which then propagates). A cancel closes it as
    cancelled without anything more published, and the block's end raises :class:`Cancelled` if
    nothing in it did. Without ``with``, end it with ``complete()`` or ``fail()``."""

    def __init__(
        self,
        stream: TaskStream,
        signal: CancelSignal,
        call_id: str,
        tool: str,
        agent_id: str,
        attempt: Optional[int],
        opened: "Future[Ack]",
        retryable: Retryable = None,
    ) -> None:
        self._stream = stream
        self._signal = signal
        self.id = call_id
        self.tool = tool
        self.agent_id = agent_id
        self.attempt = attempt
        self._opened = opened
        self._retryable = retryable
        self._started = time.monotonic()
        self._ended = False
        self.result: Any = _UNSET

    @property
    def elapsed_ms(self) -> int:
        """Milliseconds since the call was opened."""
        return round((time.monotonic() - self._started) * 1000)

    def complete(self, result: Any = _UNSET) -> int:
        """Publishes ``tool:complete`` with the duration and result; waits until it is stored."""
        if result is not _UNSET:
            self.result = result
        data = {
            "callId": self.id,
            "tool": self.tool,
            "agentId": self.agent_id,
            "durationMs": self.elapsed_ms,
        }
        if self.result is not _UNSET:
            data["result"] = self.result
        return self._close("tool:complete", data)

    def fail(self, error: Any, *, retryable: Optional[bool] = None) -> int:
        """Publishes ``tool:failed``; waits until it is stored."""
        data = {
            "callId": self.id,
            "tool": self.tool,
            "agentId": self.agent_id,
            "error": to_error_info(error),
            "durationMs": self.elapsed_ms,
            "retryable": retryable,
        }
        return self._close("tool:failed", data)

    def _close(self, type: str, data: Dict[str, Any]) -> int:
        if self._ended:
            raise RuntimeError(f"Tool call {self.id} has already ended.")
        # After a cancel the cancel event closes the call as cancelled; nothing more is published.
        self._signal.raise_if_cancelled()
        self._ended = True
        closed = self._stream.emit(type, data)
        self._opened.result()
        return closed.result().seq

    def __enter__(self) -> "ToolCall":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._ended:
            return
        if isinstance(exc, Cancelled) or self._signal.cancelled:
            self._ended = True
            # A block that finished its work after the cancel still stops here.
            if exc is None:
                self._signal.raise_if_cancelled()
            return
        if exc is None:
            self.complete()
            return
        retryable = self._retryable(exc) if callable(self._retryable) else self._retryable
        try:
            self.fail(exc, retryable=retryable)
        except Exception:  # noqa: BLE001 - the tool's own error is the one to propagate
            pass
