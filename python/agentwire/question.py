"""Questions an agent asks the watchers, and where their answers find the waiting ``ask()``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Union

from .answer_schema import unsupported_schema
from .errors import AgentwireError


@dataclass(frozen=True)
class Answer:
    """What ``ask()`` returns: the answer and who gave it, or ``timed_out`` with the default."""

    answer: Any
    question_id: str
    timed_out: bool = False
    by: Optional[str] = None


class _Slot:
    __slots__ = ("event", "answer", "by", "timed_out", "delivered")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.answer: Any = None
        self.by: Optional[str] = None
        self.timed_out = False
        self.delivered = False


class PendingQuestions:
    """The questions a task is waiting on, by id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: Dict[str, _Slot] = {}

    def wait(self, question_id: str) -> _Slot:
        """Registers before the question is published, so an answer can never arrive too early."""
        with self._lock:
            if question_id in self._waiting:
                raise ValueError(f"A question {question_id!r} is already waiting.")
            slot = self._waiting[question_id] = _Slot()
            return slot

    def deliver(self, question_id: str, answer: Any, by: Optional[str], timed_out: bool) -> bool:
        """Hands an answer to its ``ask``; False when nobody waits for it."""
        with self._lock:
            slot = self._waiting.pop(question_id, None)
        if slot is None:
            return False
        slot.answer, slot.by, slot.timed_out, slot.delivered = (
            answer,
            by,
            timed_out,
            True,
        )
        slot.event.set()
        return True

    def forget(self, question_id: str) -> None:
        with self._lock:
            self._waiting.pop(question_id, None)


Option = Union[str, Dict[str, str]]


def question_fields(
    options: Optional[Sequence[Option]],
    schema: Optional[Dict[str, Any]],
    timeout: Optional[float],
) -> Dict[str, Any]:
    """Normalizes and checks ``ask`` arguments before anything is published."""
    fields: Dict[str, Any] = {}
    if options is not None:
        if isinstance(options, str):
            raise TypeError("options is a list of answers, not one string.")
        fields["options"] = [{"value": o} if isinstance(o, str) else dict(o) for o in options]
    if schema is not None:
        issue = unsupported_schema(schema)
        if issue is not None:
            path, problem = issue
            raise AgentwireError(
                "invalid_payload",
                f"ask(): the schema cannot be checked: {problem} at {path or '/'}.",
                {"path": f"/schema{path}"},
            )
        fields["schema"] = schema
    if timeout is not None:
        if not isinstance(timeout, (int, float)) or not timeout > 0 or timeout == float("inf"):
            raise ValueError(f"ask(): timeout is a positive number of seconds, got {timeout!r}.")
        fields["timeoutMs"] = max(1, round(timeout * 1000))
    return fields
