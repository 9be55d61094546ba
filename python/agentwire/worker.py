"""This producer as a worker: the task kinds it starts when a watcher (or ``POST /v1/tasks``) asks."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from .errors import AgentwireError, Cancelled

if TYPE_CHECKING:
    from .producer import Producer
    from .task import Task

log = logging.getLogger("agentwire")

TaskHandler = Callable[["Task", Any], Any]


class Worker:
    """Runs each started task's handler on a thread of its own: ``handler(task, input)``. Its return
    value completes the task; an exception fails it (unless the task was cancelled, which already
    ended it). The handler may also end the task itself."""

    def __init__(self, producer: "Producer", capacity: Optional[int] = None) -> None:
        self._producer = producer
        self._handlers: Dict[str, TaskHandler] = {}
        self._lock = threading.Lock()
        self._running = 0
        self._capacity = _check_capacity(capacity)

    @property
    def kinds(self) -> List[str]:
        return list(self._handlers)

    @property
    def capacity(self) -> Optional[int]:
        return self._capacity

    @property
    def active(self) -> int:
        """Tasks this worker is running now."""
        return self._running

    def handle(self, kind: str, handler: TaskHandler) -> "Worker":
        """Handles tasks of ``kind`` with ``handler``, replacing an earlier handler of that kind."""
        if not isinstance(kind, str) or not 1 <= len(kind) <= 128:
            raise ValueError("A task kind is a string of 1 to 128 characters.")
        self._handlers[kind] = handler
        self._producer._announce(self)
        return self

    def unhandle(self, kind: str) -> "Worker":
        """Stops taking tasks of ``kind``; tasks already running go on."""
        if self._handlers.pop(kind, None) is not None:
            self._producer._announce(self)
        return self

    def configure(self, capacity: Optional[int]) -> "Worker":
        self._capacity = _check_capacity(capacity)
        self._producer._announce(self)
        return self

    def _start(self, command: Dict[str, Any]) -> Dict[str, Any]:
        """Publishes the task's start, then runs its handler in the background; returns ``{"seq"}``."""
        kind = command.get("kind", "")
        handler = self._handlers.get(kind)
        if handler is None:
            raise AgentwireError("no_worker", f"This worker does not handle {kind!r}.")
        with self._lock:
            if self._capacity is not None and self._running >= self._capacity:
                raise AgentwireError(
                    "no_worker",
                    f"This worker is at its capacity of {self._capacity} tasks.",
                )
            self._running += 1
        try:
            task, seq = self._producer._open(
                task_id=command.get("taskId"),
                title=command.get("title") or kind,
                kind=kind,
                input=command.get("input"),
                project_id=command.get("projectId"),
            )
        except BaseException:
            with self._lock:
                self._running -= 1
            raise
        threading.Thread(
            target=self._run,
            args=(handler, task, command.get("input")),
            name=f"agentwire-task {task.id}",
            daemon=True,
        ).start()
        return {"seq": seq}

    def _run(self, handler: TaskHandler, task: "Task", input: Any) -> None:
        try:
            with task:
                result = handler(task, input)
                if not task.ended and not task.cancelled:
                    task.complete(result)
        except Cancelled:
            pass
        except Exception:  # noqa: BLE001 - the task is failed already; say why here too
            log.exception("agentwire: the %s handler raised", task.stream)
        finally:
            with self._lock:
                self._running -= 1


def _check_capacity(capacity: Optional[int]) -> Optional[int]:
    if capacity is None:
        return None
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        raise ValueError(f"A worker's capacity is a positive integer, got {capacity!r}.")
    return capacity
