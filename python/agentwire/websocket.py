"""A small WebSocket client (RFC 6455) on the standard library, for the producer channel.

Text frames only out, text and control frames in; no extensions. One thread reads (``recv``), any
thread may send.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import select
import socket
import ssl
import struct
import threading
from typing import Dict, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from .errors import AgentwireError, code_for_status

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HEADER_BYTES = 64 * 1024

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class ConnectionClosed(Exception):
    """The WebSocket closed: ``code`` as the peer sent it (1006 when the connection just dropped)."""

    def __init__(self, code: int = 1006, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"closed with {code}{' ' + reason if reason else ''}")


class WebSocket:
    def __init__(
        self,
        sock: socket.socket,
        buffered: bytes,
        subprotocol: Optional[str],
        max_message: int,
    ) -> None:
        self._sock = sock
        self._buf = bytearray(buffered)
        self._send_lock = threading.Lock()
        self._fragments: Optional[Tuple[int, bytearray]] = None
        self._max_message = max_message
        self._closed = False
        self.subprotocol = subprotocol

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        headers: Optional[Dict[str, str]] = None,
        subprotocols: Sequence[str] = (),
        timeout: float = 10.0,
        ssl_context: Optional[ssl.SSLContext] = None,
        max_message: int = 16 * 1024 * 1024,
    ) -> "WebSocket":
        """Opens the connection and completes the handshake; a refusal raises AgentwireError."""
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"A WebSocket URL is ws(s)://host[:port]/path, got {url!r}.")
        secure = parts.scheme == "wss"
        port = parts.port or (443 if secure else 80)
        host = parts.hostname
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as err:
            raise AgentwireError(
                "unavailable", f"Could not reach {url}: {err}", {"reason": str(err)}
            ) from err
        try:
            if secure:
                context = ssl_context or ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=host)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            key = base64.b64encode(os.urandom(16)).decode("ascii")
            host_header = host if ":" not in host else f"[{host}]"
            if parts.port is not None:
                host_header += f":{parts.port}"
            lines = [
                f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
                f"Host: {host_header}",
                "Upgrade: websocket",
                "Connection: Upgrade",
                f"Sec-WebSocket-Key: {key}",
                "Sec-WebSocket-Version: 13",
            ]
            if subprotocols:
                lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}")
            for name, value in (headers or {}).items():
                lines.append(f"{name}: {value}")
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            status, response_headers, rest = _read_response_head(sock)
            if status != 101:
                raise _refusal(sock, status, response_headers, rest, url)
            expected = base64.b64encode(hashlib.sha1((key + _GUID).encode("ascii")).digest()).decode("ascii")
            if response_headers.get("sec-websocket-accept") != expected:
                raise AgentwireError(
                    "invalid_message",
                    f"{url} answered the upgrade with a wrong Sec-WebSocket-Accept.",
                )
            chosen = response_headers.get("sec-websocket-protocol")
            if chosen is not None and chosen not in subprotocols:
                raise AgentwireError(
                    "invalid_message",
                    f"{url} selected a subprotocol not offered: {chosen}.",
                )
            return cls(sock, rest, chosen, max_message)
        except AgentwireError:
            sock.close()
            raise
        except OSError as err:
            sock.close()
            raise AgentwireError("unavailable", f"The WebSocket handshake with {url} failed: {err}") from err

    def send_text(self, text: str) -> None:
        self._send(OP_TEXT, text.encode("utf-8"))

    def recv(self, timeout: Optional[float]) -> Optional[str]:
        """The next text message, or None if ``timeout`` seconds pass first. Pings are answered here;
        binary messages are skipped. Raises ConnectionClosed when the connection ends.
        """
        while True:
            frame = self._parse_frame()
            if frame is None:
                if not self._fill(timeout):
                    return None
                continue
            fin, opcode, payload = frame
            if opcode == OP_PING:
                self._send(OP_PONG, payload)
            elif opcode == OP_PONG:
                pass
            elif opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                reason = payload[2:].decode("utf-8", "replace")
                try:
                    self._send(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                self._shutdown()
                raise ConnectionClosed(code, reason)
            else:
                message = self._assemble(fin, opcode, payload)
                if message is not None and message[0] == OP_TEXT:
                    try:
                        return message[1].decode("utf-8")
                    except UnicodeDecodeError:
                        self.close(1007, "invalid UTF-8")
                        raise ConnectionClosed(1007, "invalid UTF-8")

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self._closed:
            return
        try:
            self._send(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8")[:120])
        except OSError:
            pass
        self._shutdown()

    def abort(self) -> None:
        """Drops the connection without a closing handshake (a dead peer will not answer one)."""
        self._shutdown()

    def _shutdown(self) -> None:
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()

    def _send(self, opcode: int, payload: bytes) -> None:
        if self._closed:
            raise ConnectionClosed(1006, "already closed")
        header = bytearray([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header.append(0x80 | length)
        elif length < 1 << 16:
            header.append(0x80 | 126)
            header += struct.pack("!H", length)
        else:
            header.append(0x80 | 127)
            header += struct.pack("!Q", length)
        mask = os.urandom(4)
        header += mask
        with self._send_lock:
            self._sock.sendall(bytes(header) + _masked(payload, mask))

    def _fill(self, timeout: Optional[float]) -> bool:
        pending = isinstance(self._sock, ssl.SSLSocket) and self._sock.pending() > 0
        if not pending:
            try:
                ready, _, _ = select.select([self._sock], [], [], timeout)
            except (OSError, ValueError) as err:
                raise ConnectionClosed(1006, str(err)) from err
            if not ready:
                return False
        try:
            chunk = self._sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return False
        except OSError as err:
            self._shutdown()
            raise ConnectionClosed(1006, str(err)) from err
        if not chunk:
            self._shutdown()
            raise ConnectionClosed(1006, "connection dropped")
        self._buf += chunk
        return True

    def _parse_frame(self) -> Optional[Tuple[bool, int, bytes]]:
        buf = self._buf
        if len(buf) < 2:
            return None
        fin = bool(buf[0] & 0x80)
        opcode = buf[0] & 0x0F
        masked = bool(buf[1] & 0x80)
        length = buf[1] & 0x7F
        offset = 2
        if length == 126:
            if len(buf) < 4:
                return None
            length = struct.unpack_from("!H", buf, 2)[0]
            offset = 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length = struct.unpack_from("!Q", buf, 2)[0]
            offset = 10
        if length > self._max_message:
            self.close(1009, "message too big")
            raise ConnectionClosed(1009, "message too big")
        mask = b""
        if masked:
            if len(buf) < offset + 4:
                return None
            mask = bytes(buf[offset : offset + 4])
            offset += 4
        if len(buf) < offset + length:
            return None
        payload = bytes(buf[offset : offset + length])
        del buf[: offset + length]
        if masked:
            payload = _masked(payload, mask)
        return fin, opcode, payload

    def _assemble(self, fin: bool, opcode: int, payload: bytes) -> Optional[Tuple[int, bytes]]:
        if opcode == OP_CONT:
            if self._fragments is None:
                self.close(1002, "unexpected continuation")
                raise ConnectionClosed(1002, "unexpected continuation")
            self._fragments[1].extend(payload)
            if len(self._fragments[1]) > self._max_message:
                self.close(1009, "message too big")
                raise ConnectionClosed(1009, "message too big")
            if not fin:
                return None
            first, data = self._fragments
            self._fragments = None
            return first, bytes(data)
        if not fin:
            self._fragments = (opcode, bytearray(payload))
            return None
        return opcode, payload


def _masked(payload: bytes, mask: bytes) -> bytes:
    if not payload:
        return payload
    n = len(payload)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def _read_response_head(sock: socket.socket) -> Tuple[int, Dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise AgentwireError(
                "unavailable",
                "The gateway closed the connection during the WebSocket handshake.",
            )
        data += chunk
        if len(data) > _MAX_HEADER_BYTES:
            raise AgentwireError("invalid_message", "The WebSocket handshake answer is too large.")
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        raise AgentwireError(
            "invalid_message", f"Not an HTTP answer to the upgrade: {lines[0][:100]!r}"
        ) from None
    headers: Dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, rest


def _refusal(
    sock: socket.socket, status: int, headers: Dict[str, str], rest: bytes, url: str
) -> AgentwireError:
    """The gateway refused the upgrade with an HTTP answer: read its error body, if it has one."""
    body = rest
    try:
        length = int(headers.get("content-length", "0"))
        while len(body) < min(length, 64 * 1024):
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
    except (ValueError, OSError):
        pass
    try:
        error = json.loads(body.decode("utf-8")).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        return AgentwireError.from_body(error, status=status)
    return AgentwireError(
        code_for_status(status),
        f"{url} refused the WebSocket upgrade with HTTP {status}.",
        status=status,
    )
