"""A running task: the handle to its stream (``task:<id>``) and the factory for its agents."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterator,
    Optional,
    Sequence,
    Type,
    Union,
)

from .agent import Agent
from .cancel import CancelSignal
from .error_info import to_error_info
from .errors import AgentwireError, Cancelled
from .ids import new_id
from .inbox import ChatMessage, Inbox, MessageHandler
from .outbox import Ack, Outbox
from .question import Answer, Option, PendingQuestions, question_fields
from .stream import TaskStream, check_level
from .streams import task_stream

if TYPE_CHECKING:
    from .commands import CommandSession

# After a watcher's cancel, the producer waits at most this long for the agent to stop (its ``with``
# block to end) and for what it published while stopping (a streamed message's end) to be stored,
# before it acknowledges: those events then precede ``task:cancelled`` in the stream.
CANCEL_SETTLE_SECONDS = 2.0
# ``ask`` trusts the gateway to time a question out; this much later it stops waiting on its own,
# in case the gateway could not tell it.
ASK_GRACE_SECONDS = 2.0

_FAILURE_REASONS = ("error", "orphaned", "timeout")


class Task:
    """Made by ``producer.start_task()``. As a context manager it completes when the block ends, or
    fails with the exception that ended it (which propagates); a cancel ends the block quietly
    (the gateway records ``task:cancelled``) and leaves ``task.cancelled`` set.

    Queued calls (``log``, ``progress``, ``stage``, ``custom``, ``emit``) return a Future of the
    event's :class:`Ack`; calls that open or close something wait until the gateway stored it.
    Every call raises :class:`Cancelled` once the task is cancelled.
    """

    def __init__(
        self,
        outbox: Outbox,
        task_id: str,
        project_id: Optional[str] = None,
        session: Optional["CommandSession"] = None,
    ) -> None:
        self.id = task_id
        self.stream = task_stream(task_id)
        self.project_id = project_id
        self.signal = CancelSignal(task_id)
        self._outbox = outbox
        self._events = TaskStream(outbox, self.stream)
        self._session = session
        self._agents: Dict[str, Agent] = {}
        self._agents_lock = threading.Lock()
        self._questions = PendingQuestions()
        self._inbox = Inbox()
        self._ended = False
        self._closed = threading.Event()

    @property
    def cancelled(self) -> bool:
        """True once the task was cancelled, by a watcher or by ``cancel()``."""
        return self.signal.cancelled

    @property
    def ended(self) -> bool:
        """True once the task completed, failed or was cancelled."""
        return self._ended

    # ---- agents -----------------------------------------------------------------------------------

    def spawn_agent(
        self,
        name: str,
        *,
        role: Optional[str] = None,
        model: Optional[str] = None,
        parent: Union[Agent, str, None] = None,
        agent_id: Optional[str] = None,
    ) -> Agent:
        """Publishes ``agent:spawned`` and returns the agent once the gateway stored it. ``parent``
        builds the agent tree watchers draw."""
        self.signal.raise_if_cancelled()
        agent_id = agent_id if agent_id is not None else new_id()
        with self._agents_lock:
            agent = self._agents.get(agent_id)
            if agent is None:
                signal = CancelSignal(self.id, agent_id, parent=self.signal)
                agent = self._agents[agent_id] = Agent(self, self._events, signal, agent_id, name)
        parent_id = parent if isinstance(parent, str) or parent is None else parent.id
        self._events.stored(
            "agent:spawned",
            {
                "agentId": agent_id,
                "name": name,
                "role": role,
                "model": model,
                "parentId": parent_id,
            },
        )
        return agent

    # ---- queued events ----------------------------------------------------------------------------

    def progress(
        self,
        percent: Optional[float] = None,
        message: Optional[str] = None,
        *,
        current: Optional[float] = None,
        total: Optional[float] = None,
    ) -> "Future[Ack]":
        """``task:progress``: send what you know (percent 0-100, a message, current of total)."""
        self.signal.raise_if_cancelled()
        return self._events.emit(
            "task:progress",
            {
                "percent": percent,
                "message": message,
                "current": current,
                "total": total,
            },
        )

    def stage(self, stage: str, message: Optional[str] = None) -> "Future[Ack]":
        """``task:stage``: the task entered a named stage (ideally one of ``start_task(stages=…)``)."""
        self.signal.raise_if_cancelled()
        return self._events.emit("task:stage", {"stage": stage, "message": message})

    def log(self, level: str, message: str, fields: Optional[Dict[str, Any]] = None) -> "Future[Ack]":
        """``log:entry``; level is trace, debug, info, warn or error."""
        self.signal.raise_if_cancelled()
        return self._events.emit(
            "log:entry",
            {"level": check_level(level), "message": message, "fields": fields},
        )

    def custom(self, name: str, payload: Any = None) -> "Future[Ack]":
        """``custom:event``: a producer-defined event; ``payload`` is opaque to agentwire."""
        self.signal.raise_if_cancelled()
        return self._events.emit("custom:event", {"name": name, "payload": payload})

    def emit(self, type: str, data: Dict[str, Any], *, id: Optional[str] = None) -> "Future[Ack]":
        """Publishes any catalog event into this task's stream (docs/protocol.md, "Event catalog")."""
        self.signal.raise_if_cancelled()
        return self._events.emit(type, data, id)

    # ---- questions and chat -----------------------------------------------------------------------

    def ask(
        self,
        prompt: str,
        *,
        options: Optional[Sequence[Option]] = None,
        schema: Optional[Dict[str, Any]] = None,
        timeout: Optional[float] = None,
        default: Any = None,
        agent: Union[Agent, str, None] = None,
        question_id: Optional[str] = None,
    ) -> Answer:
        """Asks the watchers a question and blocks until the first valid answer (checked by the
        gateway against ``options`` or ``schema``). After ``timeout`` seconds it returns
        ``Answer(timed_out=True, answer=default)``; a cancel meanwhile raises :class:`Cancelled`.
        """
        if self._session is None:
            raise AgentwireError(
                "no_producer",
                "ask() needs the command channel for answers to arrive: connect() with commands on.",
            )
        signal = agent.signal if isinstance(agent, Agent) else self.signal
        signal.raise_if_cancelled()
        fields = question_fields(options, schema, timeout)
        question_id = question_id if question_id is not None else new_id()
        slot = self._questions.wait(question_id)
        remove = signal.add_callback(slot.event.set)
        try:
            agent_id = agent.id if isinstance(agent, Agent) else agent
            self._events.stored(
                "question:asked",
                {
                    "questionId": question_id,
                    "prompt": prompt,
                    "agentId": agent_id,
                    **fields,
                },
            )
            deadline = None if timeout is None else time.monotonic() + timeout + ASK_GRACE_SECONDS
            # The slot's event is set by the answer and by a cancel, so this loop never spins.
            while not slot.delivered:
                signal.raise_if_cancelled()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    if self._questions.deliver(question_id, None, None, True):
                        # The gateway never said; record the timeout so watchers stop offering answers.
                        self._events.emit(
                            "question:answered",
                            {
                                "questionId": question_id,
                                "answer": None,
                                "timedOut": True,
                            },
                        )
                    break
                slot.event.wait(remaining)
            if slot.timed_out:
                return Answer(default, question_id, timed_out=True)
            return Answer(slot.answer, question_id, by=slot.by)
        finally:
            remove()
            self._questions.forget(question_id)

    def on_message(self, handler: MessageHandler) -> Callable[[], None]:
        """Calls ``handler(message)`` for each chat message watchers send into this task, in order,
        on the command channel's thread (keep it quick). Messages that arrived before the first
        handler are handed to it. Returns a function that stops listening."""
        return self._inbox.on(handler)

    def messages(self, timeout: Optional[float] = None) -> Iterator[ChatMessage]:
        """The chat messages, in order; the iterator ends when the task ends, or after ``timeout``
        seconds without a message."""
        return self._inbox.iterate(timeout)

    # ---- the end ----------------------------------------------------------------------------------

    def complete(self, result: Any = None, *, summary: Optional[str] = None) -> int:
        """Publishes ``task:complete`` and waits until it is stored."""
        self.signal.raise_if_cancelled()
        return self._finish("task:complete", {"result": result, "summary": summary})

    def fail(self, error: Any, *, reason: Optional[str] = None) -> int:
        """Publishes ``task:failed`` (``reason``: error, orphaned or timeout) and waits until it is stored."""
        self.signal.raise_if_cancelled()
        if reason is not None and reason not in _FAILURE_REASONS:
            raise ValueError(f"reason is one of {', '.join(_FAILURE_REASONS)}; got {reason!r}.")
        return self._finish("task:failed", {"error": to_error_info(error), "reason": reason})

    def cancel(self, reason: Optional[str] = None, *, by: Optional[str] = None) -> int:
        """Cancels the task from the producer's side: sets ``signal`` at once, so work in flight
        stops, then publishes ``task:cancelled`` and waits until it is stored."""
        self.signal.raise_if_cancelled()
        future = self._events.emit("task:cancelled", {"reason": reason, "by": by})
        self.signal._cancel(reason, by)
        self._end()
        return future.result().seq

    def _finish(self, type: str, data: Dict[str, Any]) -> int:
        future = self._events.emit(type, data)
        self._end()
        return future.result().seq

    def __enter__(self) -> "Task":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Optional[bool]:
        try:
            if isinstance(exc, Cancelled) and exc.task_id == self.id and exc.agent_id is None:
                return True
            if self._ended or self.signal.cancelled:
                return None
            if exc is None:
                self.complete()
            elif isinstance(exc, Exception):
                try:
                    self.fail(exc)
                except Exception:  # noqa: BLE001 - the block's own exception is the one to propagate
                    pass
            return None
        finally:
            self._closed.set()

    # ---- commands from watchers (the command session calls these) ---------------------------------

    def _cancelled_remotely(self, agent_id: Optional[str], reason: Optional[str], by: Optional[str]) -> None:
        """A watcher's cancel: sets the signal (of the task, or of one agent) at once, then waits
        briefly for the agent to stop and for what it published meanwhile to be stored, so the
        gateway's ``task:cancelled`` follows it. The gateway records the cancel; nothing is
        published here."""
        deadline = time.monotonic() + CANCEL_SETTLE_SECONDS
        if agent_id is not None:
            with self._agents_lock:
                agent = self._agents.get(agent_id)
            if agent is None:
                return
            agent.signal._cancel(reason, by)
            stopped = agent._closed
        else:
            self.signal._cancel(reason, by)
            stopped = self._closed
        stopped.wait(max(0.0, deadline - time.monotonic()))
        self._outbox.settle(self.stream, max(0.0, deadline - time.monotonic()))
        if agent_id is None:
            self._end()

    def _answered(self, question_id: str, answer: Any, by: Optional[str], timed_out: bool) -> bool:
        return self._questions.deliver(question_id, answer, by, timed_out)

    def _received(self, message: ChatMessage) -> None:
        self._inbox.push(message)

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._closed.set()
        self._inbox.close()
        if self._session is not None:
            self._session.ended(self)
