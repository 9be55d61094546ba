"""The producer channel (docs/protocol.md, "Producer channel") over a WebSocket to ``/v1/producer``."""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import urlsplit, urlunsplit

from .errors import AgentwireError
from .retry import backoff_delay
from .websocket import ConnectionClosed, WebSocket

log = logging.getLogger("agentwire")

PRODUCER_PATH = "/v1/producer"
PRODUCER_SUBPROTOCOL = "agentwire.producer.v1"
PRODUCER_PROTOCOL_VERSION = 1

# Silence longer than this many heartbeats means the connection is dead, even if TCP has not noticed.
_DEAD_AFTER_HEARTBEATS = 2.5
_DEFAULT_HEARTBEAT = 5.0
# Close code of a connection replaced by a newer one of the same producer: do not reconnect.
_REPLACED = 4100

StatusListener = Callable[[str, Optional[str]], None]


def producer_url(url: str) -> str:
    """``http://host:7070`` -> ``ws://host:7070/v1/producer``; a ``ws(s)://`` URL with a path is kept."""
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path.endswith(PRODUCER_PATH):
        path += PRODUCER_PATH
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


class ProducerChannel:
    """Holds the connection on a thread of its own and reconnects with backoff for as long as it is
    open. Every connection starts with a fresh hello, so the gateway always has the producer's
    current standing and resends whatever it had not seen acknowledged."""

    def __init__(
        self,
        urls: List[str],
        *,
        headers: Dict[str, str],
        hello: Callable[[], Dict[str, Any]],
        receive: Callable[[Dict[str, Any]], None],
        on_status: Optional[StatusListener] = None,
        min_delay: float = 0.1,
        max_delay: float = 5.0,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        self._urls = [producer_url(u) for u in urls]
        self._headers = {k: v for k, v in headers.items() if k.lower() in ("authorization", "x-api-key")}
        self._hello = hello
        self._receive = receive
        self._on_status = on_status
        self._min_delay = min_delay
        self._max_delay = max_delay
        self._ssl = ssl_context
        self._status = "connecting"
        self._ws: Optional[WebSocket] = None
        self._lock = threading.Lock()
        self._connected = threading.Event()
        # Set once the first connection was welcomed or failed: starting a task waits for that much.
        self._attempted = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._welcomed = False
        self.last_error: Optional[AgentwireError] = None

    @property
    def status(self) -> str:
        """``connecting``, ``connected``, ``disconnected`` or ``closed``."""
        return self._status

    def open(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="agentwire-producer-channel", daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: Optional[float]) -> bool:
        return self._connected.wait(timeout)

    def wait_attempted(self, timeout: Optional[float]) -> bool:
        """Waits until the first connection was welcomed or failed; True if connected now."""
        self._attempted.wait(timeout)
        return self._connected.is_set()

    def send(self, op: Dict[str, Any]) -> bool:
        """Sends one op if connected; False otherwise (the next hello restates what matters)."""
        with self._lock:
            ws = self._ws if self._status == "connected" else None
        if ws is None:
            return False
        try:
            ws.send_text(json.dumps(op, separators=(",", ":")))
            return True
        except (OSError, ConnectionClosed):
            return False

    def close(self, timeout: float = 2.0) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        with self._lock:
            ws, connected = self._ws, self._status == "connected"
            self._ws = None
        if ws is not None:
            if connected:
                try:
                    ws.send_text('{"op":"bye"}')
                except (OSError, ConnectionClosed):
                    pass
            ws.close(1000, "bye")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._set_status("closed")

    def _run(self) -> None:
        attempt = 0
        node = 0
        while not self._stop.is_set():
            url = self._urls[node]
            self._set_status("connecting")
            try:
                ws = WebSocket.connect(
                    url,
                    headers=self._headers,
                    subprotocols=[PRODUCER_SUBPROTOCOL],
                    ssl_context=self._ssl,
                )
            except AgentwireError as err:
                self.last_error = err
                self._set_status("disconnected", f"{err.code}: {err.message}")
                self._attempted.set()
            else:
                with self._lock:
                    if self._stop.is_set():
                        ws.close(1000, "bye")
                        return
                    self._ws = ws
                self._welcomed = False
                try:
                    self._serve(ws)
                except ConnectionClosed as closed:
                    if self._stop.is_set():
                        return
                    self._set_status("disconnected", str(closed))
                    if closed.code == _REPLACED:
                        log.warning("agentwire: a newer connection of this producer replaced this one")
                        self._set_status("closed", str(closed))
                        return
                finally:
                    with self._lock:
                        if self._ws is ws:
                            self._ws = None
                    self._connected.clear()
                    self._attempted.set()
                if self._welcomed:
                    attempt = 0
            if self._stop.is_set():
                return
            # The next node, if there are several: this one dropped us, is shutting down, or is gone.
            node = (node + 1) % len(self._urls)
            delay = backoff_delay(attempt, self._min_delay, self._max_delay)
            attempt += 1
            self._stop.wait(delay)

    def _serve(self, ws: WebSocket) -> None:
        """Says hello, then reads ops until the connection ends (ConnectionClosed) or the channel closes."""
        try:
            ws.send_text(json.dumps(self._hello(), separators=(",", ":")))
        except OSError as err:
            raise ConnectionClosed(1006, str(err)) from err
        heartbeat = _DEFAULT_HEARTBEAT
        last_heard = time.monotonic()
        next_ping: Optional[float] = None
        while not self._stop.is_set():
            now = time.monotonic()
            deadline = last_heard + heartbeat * _DEAD_AFTER_HEARTBEATS
            if next_ping is not None:
                deadline = min(deadline, next_ping)
            text = ws.recv(max(0.0, deadline - now))
            now = time.monotonic()
            if text is not None:
                last_heard = now
                try:
                    op = json.loads(text)
                except ValueError:
                    log.warning("agentwire: unreadable frame from the gateway: %.100s", text)
                    continue
                if not isinstance(op, dict):
                    continue
                if op.get("op") == "welcome":
                    hb = op.get("heartbeatMs")
                    if isinstance(hb, (int, float)) and hb > 0:
                        heartbeat = hb / 1000
                    next_ping = now + heartbeat
                    self._welcomed = True
                    with self._lock:
                        self._status = "connected"
                    self._connected.set()
                    self._attempted.set()
                    self._notify("connected", None)
                try:
                    self._receive(op)
                except Exception:  # noqa: BLE001 - one bad op must not take the channel down
                    log.exception("agentwire: handling %s from the gateway failed", op.get("op"))
            if next_ping is not None and now >= next_ping:
                try:
                    ws.send_text('{"op":"ping"}')
                except OSError as err:
                    raise ConnectionClosed(1006, str(err)) from err
                next_ping = now + heartbeat
            if now - last_heard > heartbeat * _DEAD_AFTER_HEARTBEATS:
                ws.abort()
                raise ConnectionClosed(1006, "the gateway went silent")

    def _set_status(self, status: str, detail: Optional[str] = None) -> None:
        with self._lock:
            if status == self._status and detail is None:
                return
            self._status = status
        self._notify(status, detail)

    def _notify(self, status: str, detail: Optional[str]) -> None:
        if self._on_status is None:
            return
        try:
            self._on_status(status, detail)
        except Exception:  # noqa: BLE001 - a throwing listener must not stop the channel
            log.exception("agentwire: the on_command_status listener raised")
