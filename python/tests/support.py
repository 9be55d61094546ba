"""What the tests share: the gateway they run against, a watcher speaking its HTTP API, and a proxy
that loses responses on purpose.

The gateway comes from the environment: ``AGENTWIRE_URL``, a producer token in ``AGENTWIRE_TOKEN``
and an operator token in ``AGENTWIRE_WATCHER_TOKEN`` (``python-sdk.test.ts`` starts one and sets them).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import unittest
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Tuple
from urllib.parse import quote, urlsplit

URL = os.environ.get("AGENTWIRE_URL", "")
TOKEN = os.environ.get("AGENTWIRE_TOKEN", "")
WATCHER_TOKEN = os.environ.get("AGENTWIRE_WATCHER_TOKEN", "")


def require_gateway() -> None:
    """Skips without a gateway to test against, except under CI=true, where that is a failure."""
    if URL and TOKEN and WATCHER_TOKEN:
        return
    message = (
        "AGENTWIRE_URL, AGENTWIRE_TOKEN and AGENTWIRE_WATCHER_TOKEN name no gateway "
        "(python-sdk.test.ts sets them)"
    )
    if os.environ.get("CI") == "true":
        raise RuntimeError(message + "; CI must run these against one.")
    raise unittest.SkipTest(message)


class Watcher:
    """Someone watching and steering tasks over the gateway's HTTP API, with an operator token."""

    def __init__(self, url: str = "", token: str = "") -> None:
        self.url = (url or URL).rstrip("/")
        self.token = token or WATCHER_TOKEN

    def request(self, method: str, path: str, body: Any = None) -> Tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def events(self, stream: str) -> List[Dict[str, Any]]:
        """Every event of the stream, from the gateway's log."""
        found: List[Dict[str, Any]] = []
        while True:
            status, body = self.request(
                "GET",
                f"/v1/streams/{quote(stream, safe='')}/events?after={len(found)}&limit=1000",
            )
            assert status == 200, body
            found += body["events"]
            if not body["events"] or found[-1]["seq"] >= body["head"]:
                return found

    def types(self, stream: str) -> List[str]:
        return [e["type"] for e in self.events(stream)]

    def state(self, task_id: str) -> Dict[str, Any]:
        status, body = self.request("GET", f"/v1/tasks/{quote(task_id, safe='')}")
        assert status == 200, body
        return body["state"]

    def wait_for(
        self,
        stream: str,
        found: Callable[[List[Dict[str, Any]]], Any],
        timeout: float = 20.0,
    ) -> List[Dict[str, Any]]:
        """Long-polls the stream until ``found(events so far)`` is true; returns those events."""
        deadline = time.monotonic() + timeout
        events: List[Dict[str, Any]] = []
        after = 0
        while not found(events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{stream} never got there; it has {[e['type'] for e in events]}")
            status, body = self.request(
                "GET",
                f"/v1/streams/{quote(stream, safe='')}/poll?after={after}&wait={min(5.0, remaining):.2f}",
            )
            assert status == 200, body
            events += body["events"]
            after = events[-1]["seq"] if events else body["head"]
        return events

    def command(self, command: Dict[str, Any]) -> Tuple[int, Any]:
        return self.request("POST", "/v1/commands", command)


def of_type(events: List[Dict[str, Any]], type: str) -> List[Dict[str, Any]]:
    return [e for e in events if e["type"] == type]


class LossyProxy:
    """A TCP proxy in front of the gateway that can lose the gateway's next answer: the request
    goes through and is carried out, the answer never reaches the client, whose connection drops.
    That is what a producer sees when a network fails at the worst moment."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._lock = threading.Lock()
        self._lose = 0
        self.lost = 0
        self._sockets: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def lose_next_answers(self, count: int = 1) -> None:
        with self._lock:
            self._lose = count

    def close(self) -> None:
        self._server.close()
        for s in list(self._sockets):
            _close(s)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if answers:
                    with self._lock:
                        lose = self._lose > 0
                        if lose:
                            self._lose -= 1
                            self.lost += 1
                    if lose:
                        break
                sink.sendall(data)
        except OSError:
            pass
        _close(source)
        _close(sink)


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()
