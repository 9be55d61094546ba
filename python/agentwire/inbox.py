"""A task's incoming chat (watchers' ``message`` commands), in the order the gateway delivered it."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Deque, Iterator, List, Optional

log = logging.getLogger("agentwire")

# Messages wait here until someone reads them; past this many the oldest go, so a task that never
# reads its chat cannot grow without bound.
_MAX_BUFFERED = 1000


@dataclass(frozen=True)
class ChatMessage:
    message_id: str
    text: str
    sender: Optional[str] = None


MessageHandler = Callable[[ChatMessage], None]


class Inbox:
    """Messages that arrive before any handler are kept and handed to the first one (or to
    ``messages()``), so starting to listen late loses nothing."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._buffer: Deque[ChatMessage] = deque(maxlen=_MAX_BUFFERED)
        self._handlers: List[MessageHandler] = []
        self._closed = False

    def push(self, message: ChatMessage) -> None:
        with self._cond:
            if self._closed:
                return
            handlers = list(self._handlers)
            if not handlers:
                self._buffer.append(message)
                self._cond.notify_all()
                return
        for handler in handlers:
            _call(handler, message)

    def on(self, handler: MessageHandler) -> Callable[[], None]:
        with self._cond:
            self._handlers.append(handler)
            backlog = list(self._buffer)
            self._buffer.clear()
        for message in backlog:
            _call(handler, message)

        def off() -> None:
            with self._cond:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return off

    def iterate(self, timeout: Optional[float]) -> Iterator[ChatMessage]:
        """Yields messages in order; ends when the task ends, or after ``timeout`` seconds without one."""
        while True:
            with self._cond:
                deadline = None if timeout is None else time.monotonic() + timeout
                while not self._buffer and not self._closed:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return
                    self._cond.wait(remaining)
                if not self._buffer:
                    return
                message = self._buffer.popleft()
            yield message

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def _call(handler: MessageHandler, message: ChatMessage) -> None:
    try:
        handler(message)
    except Exception:  # noqa: BLE001 - a failing handler must not break command handling
        log.exception("agentwire: a chat message handler raised")
