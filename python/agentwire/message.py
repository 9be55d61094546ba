"""One streamed message: ``message:start``, any number of ``message:delta``, then ``message:end``."""

from __future__ import annotations

from concurrent.futures import Future
from types import TracebackType
from typing import List, Optional, Type

from .cancel import CancelSignal
from .outbox import Ack
from .stream import TaskStream


class Message:
    """A message streamed token by token. ``append()`` queues a delta and returns at once (a slow
    gateway makes it wait only when thousands are queued); as a context manager the message is
    always ended, even when the block raises or the task is cancelled, so watchers never see a
    message left open."""

    def __init__(
        self,
        stream: TaskStream,
        signal: CancelSignal,
        message_id: str,
        opened: "Future[Ack]",
    ) -> None:
        self._stream = stream
        self._signal = signal
        self.id = message_id
        self._opened = opened
        self._last: "Future[Ack]" = opened
        self._parts: List[str] = []
        self._ended = False

    @property
    def text(self) -> str:
        """The text appended so far."""
        return "".join(self._parts)

    def append(self, delta: str) -> "Future[Ack]":
        """Publishes the next chunk. Raises Cancelled once the task or agent is cancelled."""
        self._signal.raise_if_cancelled()
        if self._ended:
            raise RuntimeError(f"Message {self.id} has already ended.")
        if not isinstance(delta, str):
            raise TypeError(f"A delta is a str, got {type(delta).__name__}.")
        if delta == "":
            return self._last
        self._parts.append(delta)
        self._last = self._stream.emit("message:delta", {"messageId": self.id, "delta": delta})
        return self._last

    def end(self) -> int:
        """Publishes ``message:end`` and waits until the whole message is stored."""
        if self._ended:
            raise RuntimeError(f"Message {self.id} has already ended.")
        self._ended = True
        ended = self._stream.emit("message:end", {"messageId": self.id})
        self._opened.result()
        return ended.result().seq

    def __enter__(self) -> "Message":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._ended:
            return
        if exc is None:
            self.end()
            # A block that finished after the cancel still stops here, with its message ended.
            self._signal.raise_if_cancelled()
            return
        try:
            self.end()
        except Exception:  # noqa: BLE001 - the block's own exception is the one to propagate
            pass
