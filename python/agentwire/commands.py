"""The producer's side of the command channel: which tasks it owns, and what each watcher's command
(cancel, answer, message, start) does to them."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from .channel import PRODUCER_PROTOCOL_VERSION, ProducerChannel
from .errors import ERROR_CODES, AgentwireError
from .inbox import ChatMessage

if TYPE_CHECKING:
    from .task import Task
    from .worker import Worker

log = logging.getLogger("agentwire")

# Outcomes remembered per command id, so a command resent after a reconnection is answered again
# without being carried out twice. Resends only concern the last few commands, so this is plenty.
_REMEMBERED_OUTCOMES = 1000

Outcome = Dict[str, Any]
ChannelFactory = Callable[[Callable[[], Dict[str, Any]], Callable[[Dict[str, Any]], None]], ProducerChannel]


class CommandSession:
    """Announces the tasks this producer owns and the kinds it works on, and turns each delivered
    command into its effect, acknowledging every command id exactly once (``ack`` or ``reject``).
    """

    def __init__(
        self,
        make_channel: ChannelFactory,
        producer_id: str,
        name: Optional[str] = None,
        on_error: Optional[Callable[[AgentwireError], None]] = None,
    ) -> None:
        self.producer_id = producer_id
        self._name = name
        self._on_error = on_error
        self._channel = make_channel(self._hello, self._receive)
        self._tasks: Dict[str, "Task"] = {}
        self._outcomes: "OrderedDict[str, Future[Outcome]]" = OrderedDict()
        self._answering: "set[Future[Outcome]]" = set()
        self._lock = threading.Lock()
        self._worker: Optional["Worker"] = None
        self._opened = False
        self._closed = False

    @property
    def status(self) -> str:
        return self._channel.status

    @property
    def channel(self) -> ProducerChannel:
        return self._channel

    def claim(self, task: "Task", wait: float) -> None:
        """Takes ownership of a task: from now on, commands for it come here. Waits up to ``wait``
        seconds for the channel's first connection, so a cancel right after the start finds us.
        """
        if self._closed:
            return
        with self._lock:
            self._tasks[task.stream] = task
        self._ensure_open()
        self._channel.wait_attempted(wait)
        self._channel.send({"op": "claim", "streams": [task.stream]})

    def ended(self, task: "Task") -> None:
        """The task ended: the gateway saw its terminal event and released it."""
        with self._lock:
            if self._tasks.get(task.stream) is task:
                del self._tasks[task.stream]

    def set_worker(self, worker: "Worker") -> None:
        """Announces (or updates) the kinds this producer starts tasks for."""
        self._worker = worker
        self._ensure_open()
        op: Dict[str, Any] = {"op": "worker", "kinds": list(worker.kinds)}
        if worker.capacity is not None:
            op["capacity"] = worker.capacity
        self._channel.send(op)

    def wait_connected(self, timeout: Optional[float]) -> bool:
        self._ensure_open()
        return self._channel.wait_connected(timeout)

    def close(self, timeout: float = 3.0) -> None:
        if self._closed:
            return
        self._closed = True
        # An agent that stops because of a cancel often closes its producer right away; the cancel's
        # acknowledgement must still go out before the bye.
        with self._lock:
            answering = list(self._answering)
        for future in answering:
            try:
                future.result(timeout)
            except Exception:  # noqa: BLE001 - only waiting here; outcomes were sent or reported
                pass
        if self._opened:
            self._channel.close()

    def _ensure_open(self) -> None:
        with self._lock:
            if self._opened or self._closed:
                return
            self._opened = True
        self._channel.open()

    def _hello(self) -> Dict[str, Any]:
        with self._lock:
            streams = list(self._tasks)
        hello: Dict[str, Any] = {
            "op": "hello",
            "version": PRODUCER_PROTOCOL_VERSION,
            "producerId": self.producer_id,
            "streams": streams,
        }
        if self._name is not None:
            hello["name"] = self._name
        worker = self._worker
        if worker is not None:
            hello["kinds"] = list(worker.kinds)
            if worker.capacity is not None:
                hello["capacity"] = worker.capacity
        return hello

    def _receive(self, op: Dict[str, Any]) -> None:
        kind = op.get("op")
        if kind == "command" and isinstance(op.get("id"), str) and isinstance(op.get("command"), dict):
            self._handle(op["id"], op["command"])
        elif kind == "error":
            code = op.get("code")
            self._report(
                AgentwireError(
                    code if isinstance(code, str) and code in ERROR_CODES else "internal",
                    f"The gateway refused an op: {op.get('message')}",
                    op.get("details"),
                )
            )

    def _handle(self, command_id: str, command: Dict[str, Any]) -> None:
        with self._lock:
            outcome = self._outcomes.get(command_id)
            fresh = outcome is None
            if outcome is None:
                outcome = self._outcomes[command_id] = Future()
                if len(self._outcomes) > _REMEMBERED_OUTCOMES:
                    self._outcomes.popitem(last=False)
            self._answering.add(outcome)
        # Sent on whatever connection is up when the outcome is known; if none is, the gateway
        # resends the command after the reconnection and this answers it from the outcomes.
        outcome.add_done_callback(lambda f: self._answer(command_id, f))
        if not fresh:
            return
        if command.get("type") in ("cancel", "start"):
            # These wait (for the agent to stop, for task:start to be stored): not on the channel's thread.
            threading.Thread(
                target=self._execute,
                args=(command, outcome),
                name="agentwire-command",
                daemon=True,
            ).start()
        else:
            self._execute(command, outcome)

    def _answer(self, command_id: str, future: "Future[Outcome]") -> None:
        outcome = future.result()
        self._channel.send({**outcome, "id": command_id})
        with self._lock:
            self._answering.discard(future)

    def _execute(self, command: Dict[str, Any], outcome: "Future[Outcome]") -> None:
        try:
            result = self._carry_out(command)
        except AgentwireError as err:
            result = _reject(err.code, err.message)
        except Exception as err:  # noqa: BLE001 - a failing command is refused, not fatal
            log.exception("agentwire: carrying out a %s command failed", command.get("type"))
            result = _reject("command_failed", str(err) or type(err).__name__)
        outcome.set_result(result)

    def _carry_out(self, command: Dict[str, Any]) -> Outcome:
        kind = command.get("type")
        if kind == "start":
            if self._worker is None:
                raise AgentwireError("no_worker", "This producer is not a worker.")
            return {"op": "ack", "result": self._worker._start(command)}
        with self._lock:
            task = self._tasks.get(command.get("stream", ""))
        if task is None:
            return _reject("no_producer", f"This producer no longer runs {command.get('stream')}.")
        if kind == "cancel":
            task._cancelled_remotely(command.get("agentId"), command.get("reason"), command.get("by"))
            return {"op": "ack"}
        if kind == "answer":
            question_id = command.get("questionId", "")
            if not task._answered(
                question_id,
                command.get("answer"),
                command.get("by"),
                command.get("timedOut") is True,
            ):
                return _reject(
                    "question_closed",
                    f"No ask() is waiting for question {question_id}.",
                )
            return {"op": "ack"}
        if kind == "message":
            task._received(
                ChatMessage(
                    command.get("messageId", ""),
                    command.get("text", ""),
                    command.get("from"),
                )
            )
            return {"op": "ack"}
        return _reject("invalid_message", f"Unknown command type {kind!r}.")

    def _report(self, error: AgentwireError) -> None:
        if self._on_error is None:
            log.warning("agentwire: %s (%s)", error.message, error.code)
            return
        try:
            self._on_error(error)
        except Exception:  # noqa: BLE001 - a throwing listener must not break command handling
            log.exception("agentwire: the on_command_error listener raised")


def _reject(code: str, message: str) -> Outcome:
    return {"op": "reject", "code": code, "message": message[:2000]}
