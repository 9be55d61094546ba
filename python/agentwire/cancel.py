"""The cancel signal of a task or an agent: a flag to check, an event to wait on, callbacks."""

from __future__ import annotations

import logging
import threading
from typing import Callable, List, Optional

from .errors import Cancelled


class CancelSignal:
    """Set when the task is cancelled (by a watcher or ``task.cancel()``), or, for an agent's signal,
    when that agent alone is. Hand it to anything that should stop with the task: check
    ``cancelled``, ``wait()`` on it, or ``add_callback()`` to abort an HTTP stream, say.
    """

    def __init__(
        self,
        task_id: str,
        agent_id: Optional[str] = None,
        parent: Optional["CancelSignal"] = None,
    ) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: List[Callable[[], None]] = []
        self._children: List[CancelSignal] = []
        self._task_id = task_id
        self._agent_id = agent_id
        self._error: Optional[Cancelled] = None
        if parent is not None:
            parent._adopt(self)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def is_set(self) -> bool:
        """Same as ``cancelled``, so the signal can stand in for a ``threading.Event``."""
        return self._event.is_set()

    @property
    def reason(self) -> Optional[str]:
        return self._error.reason if self._error is not None else None

    @property
    def by(self) -> Optional[str]:
        return self._error.by if self._error is not None else None

    @property
    def error(self) -> Optional[Cancelled]:
        """The Cancelled exception SDK calls raise, once cancelled."""
        return self._error

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Blocks until cancelled or ``timeout`` seconds pass; True if cancelled."""
        return self._event.wait(timeout)

    def raise_if_cancelled(self) -> None:
        if self._error is not None:
            raise self._error

    def add_callback(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Calls ``callback()`` once when the signal is set (at once if it already is; on the thread
        that cancels otherwise). Returns a function that removes it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._remove(callback)
        callback()
        return lambda: None

    def _remove(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def _adopt(self, child: "CancelSignal") -> None:
        with self._lock:
            if not self._event.is_set():
                self._children.append(child)
                return
        child._set(self._error)

    def _cancel(self, reason: Optional[str], by: Optional[str]) -> bool:
        return self._set(Cancelled(reason, by, task_id=self._task_id, agent_id=self._agent_id))

    def _set(self, error: Optional[Cancelled]) -> bool:
        with self._lock:
            if self._event.is_set():
                return False
            self._error = error
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
            children, self._children = self._children, []
        for child in children:
            child._set(error)
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - one failing callback must not stop the others
                logging.getLogger("agentwire").exception("agentwire: a cancel callback raised")
        return True
