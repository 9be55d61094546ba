"""What task, agent, tool-call and message handles share: the task stream they publish into."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Dict, Optional

from .errors import AgentwireError
from .outbox import Ack, Outbox, prepare

LOG_LEVELS = ("trace", "debug", "info", "warn", "error")


class TaskStream:
    """Publishes catalog events into one ``task:<id>`` stream, in call order."""

    __slots__ = ("outbox", "name")

    def __init__(self, outbox: Outbox, name: str) -> None:
        self.outbox = outbox
        self.name = name

    def emit(self, type: str, data: Dict[str, Any], id: Optional[str] = None) -> "Future[Ack]":
        """Queues one event. A payload that is not JSON fails here, at the call that made it."""
        return self.outbox.submit(self.name, prepare(type, data, id))

    def stored(self, type: str, data: Dict[str, Any], timeout: Optional[float] = None) -> int:
        """Publishes one event and waits until the gateway stored it; returns its seq."""
        return self.emit(type, data).result(timeout).seq


def check_level(level: str) -> str:
    if level not in LOG_LEVELS:
        raise AgentwireError(
            "invalid_payload",
            f"A log level is one of {', '.join(LOG_LEVELS)}; got {level!r}.",
            {"path": "/level"},
        )
    return level
