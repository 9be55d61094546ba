"""What ``connect()`` returns: starts tasks, and owns the outbox and the command channel."""

from __future__ import annotations

import atexit
import ssl
import threading
import weakref
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, Union

from .channel import ProducerChannel, StatusListener
from .commands import CommandSession
from .errors import AgentwireError
from .http_ingest import HttpIngest
from .ids import new_id
from .outbox import Ack, ErrorListener, Outbox, prepare
from .retry import RetryPolicy
from .streams import is_stream_name, task_stream
from .task import Task
from .worker import TaskHandler, Worker

# How long a producer nobody closed may take at interpreter exit to deliver what it queued.
_EXIT_FLUSH_SECONDS = 10.0


def connect(
    url: Union[str, Sequence[str]],
    token: Optional[str] = None,
    *,
    name: Optional[str] = None,
    producer_id: Optional[str] = None,
    commands: bool = True,
    retry: Optional[RetryPolicy] = None,
    max_batch: int = 100,
    max_queued: int = 10_000,
    timeout: float = 15.0,
    connect_timeout: float = 5.0,
    headers: Optional[Dict[str, str]] = None,
    ssl_context: Optional[ssl.SSLContext] = None,
    on_error: Optional[ErrorListener] = None,
    on_command_status: Optional[StatusListener] = None,
    on_command_error: Optional[Callable[[AgentwireError], None]] = None,
) -> "Producer":
    """Connects a producer to the gateway at ``url`` (``http://localhost:7070``, or a list of a
    cluster's nodes) with a producer ``token`` (``agentwire token --publish``, or an API key).

    Events go in over HTTP (``POST /v1/streams/{stream}/events``), batched per stream and retried
    with the same ids. Watchers' commands (cancel, answers, chat, starts) come back over the producer
    channel, a WebSocket to ``/v1/producer`` opened with the first task or worker; ``commands=False``
    goes without it (then ``ask()`` and remote cancels are unavailable).

    ``on_error(error, stream, events)`` hears of every queued event that was not stored;
    ``on_command_status(status, detail)`` of the channel connecting, dropping and closing.
    """
    ingest = HttpIngest(url, token, timeout=timeout, headers=headers, ssl_context=ssl_context)
    outbox = Outbox(
        ingest,
        retry=retry or RetryPolicy(),
        max_batch=max_batch,
        max_queued=max_queued,
        on_error=on_error,
    )
    session: Optional[CommandSession] = None
    if commands:

        def make_channel(
            hello: Callable[[], Dict[str, Any]],
            receive: Callable[[Dict[str, Any]], None],
        ) -> ProducerChannel:
            return ProducerChannel(
                ingest.urls,
                headers=ingest.headers,
                hello=hello,
                receive=receive,
                on_status=on_command_status,
                ssl_context=ssl_context,
            )

        session = CommandSession(make_channel, producer_id or new_id(), name, on_command_error)
    return Producer(ingest, outbox, session, connect_timeout)


class Producer:
    """Starts tasks, publishes raw events, and runs as a worker. Use it as a context manager, or
    call ``close()`` at the end: it delivers what is queued and tells the gateway it is leaving.
    """

    def __init__(
        self,
        ingest: HttpIngest,
        outbox: Outbox,
        session: Optional[CommandSession],
        connect_timeout: float,
    ) -> None:
        self._ingest = ingest
        self._outbox = outbox
        self._session = session
        self._connect_timeout = connect_timeout
        self._worker: Optional[Worker] = None
        self._closed = threading.Event()
        # A script that forgets close() still delivers what it queued: at exit, for a bounded time.
        ref = weakref.ref(self)

        def close_at_exit() -> None:
            producer = ref()
            if producer is not None:
                producer.close(timeout=_EXIT_FLUSH_SECONDS)

        self._close_at_exit = close_at_exit
        atexit.register(close_at_exit)

    @property
    def producer_id(self) -> Optional[str]:
        return self._session.producer_id if self._session is not None else None

    @property
    def command_status(self) -> str:
        """The command channel's state: connecting, connected, disconnected, closed, or none."""
        return self._session.status if self._session is not None else "none"

    def start_task(
        self,
        title: str,
        *,
        task_id: Optional[str] = None,
        kind: Optional[str] = None,
        project_id: Optional[str] = None,
        input: Any = None,
        stages: Optional[Sequence[str]] = None,
        estimated: Optional[float] = None,
    ) -> Task:
        """Publishes ``task:start`` and returns the task once the gateway stored it. ``stages`` are
        the planned stage names; ``estimated`` the expected duration in seconds."""
        task, _ = self._open(
            task_id=task_id,
            title=title,
            kind=kind,
            project_id=project_id,
            input=input,
            stages=list(stages) if stages is not None else None,
            estimated=estimated,
        )
        return task

    def publish(self, stream: str, events: Sequence[Dict[str, Any]]) -> "List[Future[Ack]]":
        """Publishes raw catalog events (``{"type", "data", "id"?}``) to any stream (``project:acme``,
        ``system`` …) with the same ordering and retries as the handles. An event without an id gets
        one; with an id, it is the caller's idempotency key. Nothing is queued unless every event is
        JSON."""
        _check_stream(stream)
        for i, e in enumerate(events):
            if not isinstance(e, dict) or not isinstance(e.get("type"), str):
                raise AgentwireError(
                    "invalid_message",
                    f"events[{i}] is not an event {{type, data, id?}}.",
                )
        prepared = [prepare(e["type"], e.get("data", {}), e.get("id"), e.get("trace")) for e in events]
        return self._outbox.submit_all(stream, prepared)

    def handle(self, kind: str, handler: TaskHandler) -> Worker:
        """Registers this producer as a worker for ``kind``: a start of that kind from a watcher or
        ``POST /v1/tasks`` runs ``handler(task, input)`` here, on a thread of its own.
        """
        return self.worker().handle(kind, handler)

    def worker(self, capacity: Optional[int] = None) -> Worker:
        """This producer's worker (one per producer); ``capacity`` caps the tasks it runs at once."""
        if self._session is None:
            raise AgentwireError(
                "no_producer",
                "A worker needs the command channel: connect() with commands on.",
            )
        if self._worker is None:
            self._worker = Worker(self, capacity)
        elif capacity is not None:
            self._worker.configure(capacity)
        return self._worker

    def serve_forever(self, timeout: Optional[float] = None) -> bool:
        """Blocks (a worker's main loop) until ``close()`` is called from elsewhere, a signal handler
        say, or ``timeout`` seconds pass. True if closed."""
        return self._closed.wait(timeout)

    def wait_connected(self, timeout: Optional[float] = None) -> bool:
        """Opens the command channel if needed and waits until the gateway welcomed it."""
        if self._session is None:
            return False
        return self._session.wait_connected(timeout)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Waits until every event sent so far is stored or has failed; False if ``timeout`` passed."""
        return self._outbox.settle(timeout=timeout)

    def close(self, timeout: Optional[float] = None) -> None:
        """Refuses new events, delivers the queued ones (or runs out of retries), then closes the
        command channel. Tasks still running then are marked orphaned by the gateway at once.
        """
        if self._closed.is_set():
            return
        atexit.unregister(self._close_at_exit)
        try:
            self._outbox.close(timeout)
        finally:
            if self._session is not None:
                self._session.close()
            self._ingest.close()
            self._closed.set()

    def __enter__(self) -> "Producer":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def _open(
        self,
        *,
        task_id: Optional[str],
        title: str,
        kind: Optional[str] = None,
        project_id: Optional[str] = None,
        input: Any = None,
        stages: Optional[List[str]] = None,
        estimated: Optional[float] = None,
    ) -> Tuple[Task, int]:
        """start_task, also telling at which seq ``task:start`` was stored."""
        task_id = task_id if task_id is not None else new_id()
        stream = task_stream(task_id)
        _check_stream(stream)
        task = Task(self._outbox, task_id, project_id, self._session)
        if self._session is not None:
            # Claimed before the start is published, so a cancel right after it finds its producer.
            self._session.claim(task, self._connect_timeout)
        data = {
            "taskId": task_id,
            "title": title,
            "kind": kind,
            "projectId": project_id,
            "input": input,
            "stages": stages,
            "estimatedMs": None if estimated is None else round(estimated * 1000),
        }
        try:
            seq = task._events.stored("task:start", data)
        except BaseException:
            if self._session is not None:
                self._session.ended(task)
            raise
        return task, seq

    def _announce(self, worker: Worker) -> None:
        if self._session is not None:
            self._session.set_worker(worker)


def _check_stream(stream: str) -> None:
    if not is_stream_name(stream):
        raise AgentwireError(
            "invalid_stream",
            f"Invalid stream name {stream!r}: use kind:id, e.g. task:42.",
        )
