"""Every event a producer sends passes through here: given its id, queued on its stream, delivered
in batches with retries."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable, Deque, Dict, List, NamedTuple, Optional, Protocol

from .errors import AgentwireError
from .ids import new_id
from .retry import RetryPolicy, retry_delay
from .tracing import current_trace

log = logging.getLogger("agentwire")


class Ack(NamedTuple):
    """How the gateway stored one event; ``duplicate`` when an earlier attempt had already stored it."""

    id: str
    seq: int
    duplicate: bool


ErrorListener = Callable[[AgentwireError, str, List[Dict[str, Any]]], None]


class Publisher(Protocol):
    def publish(self, stream: str, events: List[Dict[str, Any]]) -> Dict[str, Any]:
        ...


def prepare(
    type: str, data: Any, id: Optional[str] = None, trace: Optional[Dict[str, str]] = None
) -> Dict[str, Any]:
    """The event as it will be sent, fixed at call time: the data is copied through JSON, so a bad
    payload fails at the call that made it and later changes to the caller's objects do not leak in.
    Top-level ``None`` values are left out, as optional fields the caller did not give. ``trace`` is
    the OpenTelemetry span current here unless given (``tracing.py``).
    """
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if v is not None}
    try:
        copy = json.loads(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError) as err:
        raise AgentwireError("invalid_payload", f"Data for {type} is not JSON-serializable: {err}") from err
    event = {"id": id if id is not None else new_id(), "type": type, "data": copy}
    if trace is None:
        trace = current_trace()
    if trace is not None:
        event["trace"] = trace
    return event


class _Pending:
    __slots__ = ("event", "future")

    def __init__(self, event: Dict[str, Any], future: "Future[Ack]") -> None:
        self.event = event
        self.future = future


class _StreamQueue:
    __slots__ = ("pending", "sending", "pushed", "settled")

    def __init__(self) -> None:
        self.pending: Deque[_Pending] = deque()
        self.sending = False
        self.pushed = 0
        self.settled = 0


# The gateway refuses a batch too big for its limits as a whole; smaller batches may pass.
_SPLITTABLE = {"too_many_events", "payload_too_large"}


class Outbox:
    """Keeps each stream's events in call order: one batch in flight per stream (on a thread of its
    own while the stream has events), and whatever was queued meanwhile goes out together as the
    next batch. A retried batch keeps its event ids, so the gateway stores it once.

    A stream with ``max_queued`` events waiting blocks the next call until the gateway catches up:
    a slow gateway slows the producer instead of growing its memory without bound.
    """

    def __init__(
        self,
        publisher: Publisher,
        *,
        retry: RetryPolicy,
        max_batch: int = 100,
        max_queued: int = 10_000,
        on_error: Optional[ErrorListener] = None,
    ) -> None:
        self._publisher = publisher
        self._retry = retry
        self._max_batch = max(1, max_batch)
        self._max_queued = max(1, max_queued)
        self._on_error = on_error
        self._queues: Dict[str, _StreamQueue] = {}
        self._cond = threading.Condition()
        self._closed = False

    def submit(self, stream: str, event: Dict[str, Any]) -> "Future[Ack]":
        """Queues a prepared event; the future resolves with its Ack or fails with an AgentwireError."""
        return self.submit_all(stream, [event])[0]

    def submit_all(self, stream: str, events: List[Dict[str, Any]]) -> "List[Future[Ack]]":
        futures: "List[Future[Ack]]" = []
        with self._cond:
            if self._closed:
                error = AgentwireError("unavailable", "This producer is closed.")
                for _ in events:
                    f: "Future[Ack]" = Future()
                    f.set_exception(error)
                    futures.append(f)
                self._report(error, stream, events)
                return futures
            for event in events:
                queue = self._queue_for(stream)
                while len(queue.pending) >= self._max_queued:
                    self._cond.wait()
                    # The queue may have drained and been dropped meanwhile.
                    queue = self._queue_for(stream)
                f = Future()
                queue.pending.append(_Pending(event, f))
                queue.pushed += 1
                futures.append(f)
                if not queue.sending:
                    queue.sending = True
                    threading.Thread(
                        target=self._drain,
                        args=(stream, queue),
                        name=f"agentwire-send {stream}",
                        daemon=True,
                    ).start()
        return futures

    def _queue_for(self, stream: str) -> _StreamQueue:
        queue = self._queues.get(stream)
        if queue is None:
            queue = self._queues[stream] = _StreamQueue()
        return queue

    def settle(self, stream: Optional[str] = None, timeout: Optional[float] = None) -> bool:
        """Waits until everything queued so far (on ``stream``, or everywhere) is stored or has failed.
        Later events do not hold it up. False if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            targets = [(q, q.pushed) for s, q in self._queues.items() if stream is None or s == stream]
            for queue, upto in targets:
                while queue.settled < upto:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(remaining)
        return True

    def idle(self, stream: str) -> bool:
        with self._cond:
            queue = self._queues.get(stream)
            return queue is None or (not queue.sending and not queue.pending)

    def close(self, timeout: Optional[float] = None) -> bool:
        """Refuses new events and waits for the queued ones to be delivered or to run out of retries."""
        with self._cond:
            self._closed = True
        return self.settle(timeout=timeout)

    def _drain(self, stream: str, queue: _StreamQueue) -> None:
        while True:
            with self._cond:
                if not queue.pending:
                    queue.sending = False
                    # Finished tasks' queues are dropped so a long-running producer does not keep them.
                    if self._queues.get(stream) is queue:
                        del self._queues[stream]
                    self._cond.notify_all()
                    return
                batch = [queue.pending.popleft() for _ in range(min(self._max_batch, len(queue.pending)))]
                self._cond.notify_all()
            try:
                self._deliver(stream, batch)
            except BaseException as err:  # noqa: BLE001 - a bug here must not leave futures pending
                error = AgentwireError("internal", f"Publishing failed: {err}")
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(error)
                self._report(error, stream, [p.event for p in batch])
            with self._cond:
                queue.settled += len(batch)
                self._cond.notify_all()

    def _deliver(self, stream: str, batch: List[_Pending]) -> None:
        if not batch:
            return
        try:
            result = self._publish_with_retry(stream, [p.event for p in batch])
        except AgentwireError as error:
            index = _refused_index(error, len(batch))
            if index is not None and len(batch) > 1:
                # One event was refused (details.index): it fails alone, the others go again.
                self._deliver(stream, batch[:index])
                self._fail(stream, [batch[index]], error)
                self._deliver(stream, batch[index + 1 :])
                return
            if len(batch) > 1 and error.code in _SPLITTABLE:
                half = (len(batch) + 1) // 2
                self._deliver(stream, batch[:half])
                self._deliver(stream, batch[half:])
                return
            self._fail(stream, batch, error)
            return
        # The gateway answers in the order it was asked; matching by id is the fallback, not the rule.
        results = result["results"]
        by_id: Optional[Dict[str, Dict[str, Any]]] = None
        missing: List[_Pending] = []
        for i, p in enumerate(batch):
            ack = results[i] if i < len(results) else None
            if ack is None or ack["id"] != p.event["id"]:
                if by_id is None:
                    by_id = {r["id"]: r for r in results}
                ack = by_id.get(p.event["id"])
            if ack is None:
                missing.append(p)
                continue
            p.future.set_result(Ack(ack["id"], ack["seq"], ack["duplicate"]))
        if missing:
            self._fail(
                stream,
                missing,
                AgentwireError("internal", "The gateway did not acknowledge every event."),
            )

    def _publish_with_retry(self, stream: str, events: List[Dict[str, Any]]) -> Dict[str, Any]:
        attempt = 1
        while True:
            try:
                return self._publisher.publish(stream, events)
            except AgentwireError as err:
                delay = retry_delay(attempt, err, self._retry)
                if delay is None:
                    raise
                log.debug(
                    "publishing to %s failed (%s), attempt %d; retrying in %.2f s",
                    stream,
                    err.code,
                    attempt,
                    delay,
                )
                time.sleep(delay)
                attempt += 1

    def _fail(self, stream: str, batch: List[_Pending], error: AgentwireError) -> None:
        for p in batch:
            p.future.set_exception(error)
        self._report(error, stream, [p.event for p in batch])

    def _report(self, error: AgentwireError, stream: str, events: List[Dict[str, Any]]) -> None:
        if self._on_error is None:
            log.warning(
                "agentwire: %d event(s) for %s not stored: %s (%s)",
                len(events),
                stream,
                error.message,
                error.code,
            )
            return
        try:
            self._on_error(error, stream, events)
        except Exception:  # noqa: BLE001 - a throwing listener must not break the queue that called it
            log.exception("agentwire: the on_error listener raised")


def _refused_index(error: AgentwireError, size: int) -> Optional[int]:
    if error.code not in ("invalid_payload", "unknown_event_type") or not isinstance(error.details, dict):
        return None
    index = error.details.get("index")
    return index if isinstance(index, int) and 0 <= index < size else None
