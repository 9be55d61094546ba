"""One agent working on a task. Every method publishes into the task's stream, in call order."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from types import TracebackType
from typing import TYPE_CHECKING, Any, Dict, Iterable, Optional, Sequence, Type, Union

from .cancel import CancelSignal
from .error_info import to_error_info
from .errors import Cancelled
from .ids import new_id
from .message import Message
from .outbox import Ack
from .question import Answer, Option
from .stream import TaskStream, check_level
from .tool_call import Retryable, ToolCall

if TYPE_CHECKING:
    from .task import Task

_ROLES = ("assistant", "user", "system", "tool")


class Agent:
    """Made by ``task.spawn_agent()``. As a context manager it completes when the block ends, or
    fails with the exception that ended it (which propagates). Its own cancel (a watcher cancelled
    just this agent) ends the block quietly; the task's cancel propagates to the task's block.

    Queued calls (``log``, ``progress``, ``handoff``, ``recall``) return a Future of the event's
    :class:`Ack`; calls that open or close something wait until the gateway stored it. Every call
    raises :class:`Cancelled` once the task or this agent is cancelled.
    """

    def __init__(
        self,
        task: "Task",
        stream: TaskStream,
        signal: CancelSignal,
        agent_id: str,
        name: str,
    ) -> None:
        self.task = task
        self.id = agent_id
        self.name = name
        self._stream = stream
        self.signal = signal
        self._closed = threading.Event()

    @property
    def task_id(self) -> str:
        return self.task.id

    @property
    def cancelled(self) -> bool:
        """True once the task, or this agent alone, was cancelled."""
        return self.signal.cancelled

    def progress(
        self,
        status: Optional[str] = None,
        *,
        activity: Optional[str] = None,
        percent: Optional[float] = None,
    ) -> "Future[Ack]":
        self.signal.raise_if_cancelled()
        return self._stream.emit(
            "agent:progress",
            {
                "agentId": self.id,
                "status": status,
                "activity": activity,
                "percent": percent,
            },
        )

    def log(self, level: str, message: str, fields: Optional[Dict[str, Any]] = None) -> "Future[Ack]":
        self.signal.raise_if_cancelled()
        return self._stream.emit(
            "log:entry",
            {
                "level": check_level(level),
                "message": message,
                "agentId": self.id,
                "fields": fields,
            },
        )

    def recall(self, memories: Sequence[Dict[str, Any]], query: Optional[str] = None) -> "Future[Ack]":
        """``memory:recalled``: memories are ``{"content", "id"?, "score"?, "source"?}``."""
        self.signal.raise_if_cancelled()
        return self._stream.emit(
            "memory:recalled",
            {"agentId": self.id, "query": query, "memories": list(memories)},
        )

    def handoff(
        self, to: Union["Agent", str], reason: Optional[str] = None, context: Any = None
    ) -> "Future[Ack]":
        self.signal.raise_if_cancelled()
        return self._stream.emit(
            "agent:handoff",
            {"from": self.id, "to": _id_of(to), "reason": reason, "context": context},
        )

    def tool(
        self,
        name: str,
        args: Any = None,
        *,
        call_id: Optional[str] = None,
        attempt: Optional[int] = None,
        retryable: Retryable = None,
    ) -> ToolCall:
        """Opens a tool call (``tool:executing``, queued without holding the tool up)::

            with agent.tool("search", {"q": q}) as call:
                call.result = search(q)

        ``attempt`` (2, 3 …) marks a retry of the same ``call_id``; ``retryable`` (a bool, or a
        function of the exception) flags a failure as worth retrying in ``tool:failed``.
        """
        self.signal.raise_if_cancelled()
        call_id = call_id if call_id is not None else new_id()
        opened = self._stream.emit(
            "tool:executing",
            {
                "callId": call_id,
                "tool": name,
                "agentId": self.id,
                "args": args,
                "attempt": attempt,
            },
        )
        return ToolCall(
            self._stream,
            self.signal,
            call_id,
            name,
            self.id,
            attempt,
            opened,
            retryable,
        )

    def message(self, *, role: str = "assistant", message_id: Optional[str] = None) -> Message:
        """Opens a streamed message (``message:start``); append tokens to it::

        with agent.message() as reply:
            for token in llm.stream(prompt):
                reply.append(token)
        """
        self.signal.raise_if_cancelled()
        if role not in _ROLES:
            raise ValueError(f"A message role is one of {', '.join(_ROLES)}; got {role!r}.")
        message_id = message_id if message_id is not None else new_id()
        opened = self._stream.emit(
            "message:start", {"messageId": message_id, "role": role, "agentId": self.id}
        )
        return Message(self._stream, self.signal, message_id, opened)

    def stream_message(
        self,
        chunks: Iterable[str],
        *,
        role: str = "assistant",
        message_id: Optional[str] = None,
    ) -> str:
        """Streams a message from text chunks (an LLM's token stream) and returns the full text once
        every chunk is stored. If the source raises, or the task is cancelled, the message is still
        ended and the exception propagates."""
        with self.message(role=role, message_id=message_id) as reply:
            iterator = iter(chunks)
            try:
                for chunk in iterator:
                    reply.append(chunk)
            finally:
                close = getattr(iterator, "close", None)
                if callable(close):
                    close()
        return reply.text

    def ask(
        self,
        prompt: str,
        *,
        options: Optional[Sequence[Option]] = None,
        schema: Optional[Dict[str, Any]] = None,
        timeout: Optional[float] = None,
        default: Any = None,
        question_id: Optional[str] = None,
    ) -> Answer:
        """``task.ask()`` asked by this agent: it also stops waiting when this agent is cancelled."""
        return self.task.ask(
            prompt,
            options=options,
            schema=schema,
            timeout=timeout,
            default=default,
            question_id=question_id,
            agent=self,
        )

    def complete(self, result: Any = None, *, summary: Optional[str] = None) -> int:
        """Publishes ``agent:complete`` and waits until it is stored."""
        self.signal.raise_if_cancelled()
        self._closed.set()
        return self._stream.stored(
            "agent:complete", {"agentId": self.id, "result": result, "summary": summary}
        )

    def fail(self, error: Any) -> int:
        """Publishes ``agent:failed`` and waits until it is stored."""
        self.signal.raise_if_cancelled()
        self._closed.set()
        return self._stream.stored("agent:failed", {"agentId": self.id, "error": to_error_info(error)})

    def __enter__(self) -> "Agent":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Optional[bool]:
        try:
            if self._closed.is_set():
                return isinstance(exc, Cancelled) and exc.agent_id == self.id
            if isinstance(exc, Cancelled) or self.signal.cancelled:
                # The gateway records the cancel; this agent publishes nothing more.
                return isinstance(exc, Cancelled) and exc.agent_id == self.id
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


def _id_of(agent: Union[Agent, str]) -> str:
    return agent if isinstance(agent, str) else agent.id
