"""``POST /v1/streams/{stream}/events`` over kept-alive HTTP connections (docs/http-api.md)."""

from __future__ import annotations

import email.utils
import http.client
import json
import ssl
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlsplit

from .errors import AgentwireError, code_for_status

# Failures that say "not this node, not now": the next node of a cluster may take the request.
_MOVES_ON = {"unavailable", "timeout", "shutting_down"}


class _Node:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"A gateway URL is http(s)://host[:port], got {url!r}.")
        self.url = url.rstrip("/")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")


class HttpIngest:
    """Publishes event batches; one request per call, retrying is the caller's job.

    Connections are pooled and kept alive. With several nodes, a request that meets a node down or
    draining goes to the next one at once; later requests stay on the node that answered. That is
    safe because appends are idempotent by event id.
    """

    def __init__(
        self,
        url: Union[str, Sequence[str]],
        token: Optional[str] = None,
        *,
        timeout: float = 15.0,
        headers: Optional[Dict[str, str]] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        urls = [url] if isinstance(url, str) else list(url)
        if not urls:
            raise ValueError("url must be a gateway URL or a non-empty list of them.")
        self._nodes = [_Node(u) for u in urls]
        self._current = 0
        self._timeout = timeout
        self._ssl = ssl_context
        self._headers = {
            **(headers or {}),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._idle: List[Tuple[_Node, http.client.HTTPConnection]] = []
        self._lock = threading.Lock()

    @property
    def urls(self) -> List[str]:
        return [n.url for n in self._nodes]

    @property
    def headers(self) -> Dict[str, str]:
        """The headers every request carries (the credential among them)."""
        return dict(self._headers)

    def publish(self, stream: str, events: List[Dict[str, Any]]) -> Dict[str, Any]:
        body = json.dumps({"events": events}, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        path = f"/v1/streams/{quote(stream, safe='')}/events"
        failure: Optional[AgentwireError] = None
        for _ in range(len(self._nodes)):
            index = self._current
            try:
                status, headers, text = self._request(self._nodes[index], "POST", path, body)
            except AgentwireError as err:
                failure = err
            else:
                if 200 <= status < 300:
                    return _parse_result(text, stream)
                failure = _refusal(status, headers, text)
            if failure.code not in _MOVES_ON and failure.status not in (502, 503, 504):
                raise failure
            with self._lock:
                if self._current == index:
                    self._current = (index + 1) % len(self._nodes)
        assert failure is not None
        raise failure

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for _, conn in idle:
            conn.close()

    def _request(
        self, node: _Node, method: str, path: str, body: bytes
    ) -> Tuple[int, http.client.HTTPMessage, str]:
        conn, reused = self._checkout(node)
        try:
            try:
                return self._exchange(node, conn, method, path, body)
            except (ConnectionError, http.client.HTTPException) as err:
                # A kept-alive connection the server had already closed: try once more on a fresh one.
                # Harmless even if the first request got through: appends are idempotent by id.
                conn.close()
                if not reused:
                    raise _unreachable(node, err)
                conn = self._connect(node)
                return self._exchange(node, conn, method, path, body)
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            if isinstance(err, TimeoutError) or "timed out" in str(err):
                raise AgentwireError(
                    "timeout",
                    f"The gateway at {node.url} did not answer within {self._timeout:g} s.",
                ) from err
            raise _unreachable(node, err) from err

    def _exchange(
        self,
        node: _Node,
        conn: http.client.HTTPConnection,
        method: str,
        path: str,
        body: bytes,
    ) -> Tuple[int, http.client.HTTPMessage, str]:
        conn.request(method, node.prefix + path, body=body, headers=self._headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        if response.will_close:
            conn.close()
        else:
            with self._lock:
                self._idle.append((node, conn))
        return response.status, response.headers, text

    def _checkout(self, node: _Node) -> Tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            for i in range(len(self._idle) - 1, -1, -1):
                if self._idle[i][0] is node:
                    return self._idle.pop(i)[1], True
        return self._connect(node), False

    def _connect(self, node: _Node) -> http.client.HTTPConnection:
        if node.https:
            return http.client.HTTPSConnection(node.host, node.port, timeout=self._timeout, context=self._ssl)
        return http.client.HTTPConnection(node.host, node.port, timeout=self._timeout)


def _unreachable(node: _Node, err: BaseException) -> AgentwireError:
    reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    return AgentwireError(
        "unavailable",
        f"Could not reach the gateway at {node.url}: {reason}",
        {"reason": reason},
    )


def _refusal(status: int, headers: http.client.HTTPMessage, text: str) -> AgentwireError:
    retry_after = parse_retry_after(headers.get("Retry-After"))
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return AgentwireError.from_body(error, status=status, retry_after=retry_after)
    # No error body of ours: most likely a proxy or load balancer answered.
    snippet = text[:200].strip()
    message = f"The gateway answered HTTP {status}" + (f": {snippet}" if snippet else ".")
    return AgentwireError(code_for_status(status), message, status=status, retry_after=retry_after)


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Retry-After in seconds: delay-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _parse_result(text: str, stream: str) -> Dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    results = body.get("results") if isinstance(body, dict) else None
    well_formed = isinstance(results, list) and all(
        isinstance(r, dict) and isinstance(r.get("id"), str) and isinstance(r.get("seq"), int)
        for r in results
    )
    if not well_formed or not isinstance(body, dict) or not isinstance(results, list):
        raise AgentwireError(
            "internal",
            "The gateway acknowledged the batch with a malformed body.",
            {"body": text[:200]},
        )
    return {
        "stream": body.get("stream", stream),
        "epoch": body.get("epoch", ""),
        "results": [
            {"id": r["id"], "seq": r["seq"], "duplicate": r.get("duplicate") is True} for r in results
        ],
    }
