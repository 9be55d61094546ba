"""Typed errors with the gateway's stable codes (docs/errors.md)."""

from __future__ import annotations

from typing import Any, Dict, Mapping, NamedTuple, Optional


class CodeInfo(NamedTuple):
    status: int
    close: int
    message: str


# The registry of packages/protocol/src/errors.ts; a test fails when the two differ.
ERROR_CODES: Dict[str, CodeInfo] = {
    "bad_json": CodeInfo(400, 4400, "The message is not valid JSON."),
    "bad_encoding": CodeInfo(400, 1007, "The message is not valid UTF-8 text."),
    "invalid_message": CodeInfo(400, 4400, "The message does not match the protocol."),
    "unknown_op": CodeInfo(400, 4400, "Unknown operation."),
    "invalid_stream": CodeInfo(400, 4400, "Invalid stream name."),
    "invalid_since": CodeInfo(400, 4400, "Invalid resume position."),
    "unknown_event_type": CodeInfo(422, 4422, "Unknown event type."),
    "invalid_payload": CodeInfo(422, 4422, "The event data does not match its type."),
    "payload_too_large": CodeInfo(413, 1009, "The message exceeds the size limit."),
    "too_many_events": CodeInfo(413, 4413, "Too many events in one batch."),
    "not_found": CodeInfo(404, 4404, "Not found."),
    "method_not_allowed": CodeInfo(405, 4405, "Method not allowed."),
    "unsupported_media_type": CodeInfo(415, 4415, "Content-Type must be application/json."),
    "already_subscribed": CodeInfo(409, 4409, "Already subscribed to this stream."),
    "not_subscribed": CodeInfo(409, 4409, "Not subscribed to this stream."),
    "too_many_subscriptions": CodeInfo(429, 4429, "Subscription limit reached."),
    "too_many_connections": CodeInfo(429, 4430, "Connection limit reached."),
    "rate_limited": CodeInfo(429, 4431, "Too many messages; slow down."),
    "slow_consumer": CodeInfo(503, 4008, "The client did not keep up; resume from the last seq."),
    "unauthorized": CodeInfo(401, 4401, "Authentication required."),
    "token_expired": CodeInfo(401, 4402, "The token has expired."),
    "forbidden": CodeInfo(403, 4403, "Not allowed."),
    "question_closed": CodeInfo(409, 4409, "The question is already answered or closed."),
    "invalid_answer": CodeInfo(422, 4422, "The answer does not match the question."),
    "no_worker": CodeInfo(503, 4503, "No worker is available for this task kind."),
    "no_producer": CodeInfo(503, 4503, "No producer owns this task."),
    "producer_id_taken": CodeInfo(409, 4411, "The producer id belongs to another credential."),
    "command_failed": CodeInfo(500, 4500, "The command failed."),
    "timeout": CodeInfo(504, 4504, "Timed out."),
    "shutting_down": CodeInfo(503, 1012, "The gateway is restarting; reconnect elsewhere."),
    "unavailable": CodeInfo(503, 1013, "The gateway is not ready."),
    "storage_unavailable": CodeInfo(
        503, 1013, "The log cannot store or read events right now; retry after Retry-After."
    ),
    "internal": CodeInfo(500, 1011, "Internal error."),
}


class AgentwireError(Exception):
    """A refusal from the gateway or the SDK. Branch on ``code``, never on the message.

    ``status`` is the HTTP status that came with it (or the registry's status for the code), and
    ``retry_after`` the server's wait hint in seconds, when it sent one.
    """

    def __init__(
        self,
        code: str,
        message: Optional[str] = None,
        details: Any = None,
        *,
        status: Optional[int] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        if code not in ERROR_CODES:
            code = "internal"
        self.code = code
        self.message = message if message is not None else ERROR_CODES[code].message
        self.details = details
        self.status = status if status is not None else ERROR_CODES[code].status
        self.retry_after = retry_after
        super().__init__(self.message)

    @property
    def close_code(self) -> int:
        return ERROR_CODES[self.code].close

    def to_dict(self) -> Dict[str, Any]:
        body: Dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"AgentwireError({self.code!r}, {self.message!r})"

    @classmethod
    def from_body(
        cls,
        body: Any,
        *,
        status: Optional[int] = None,
        retry_after: Optional[float] = None,
    ) -> "AgentwireError":
        """Builds the error from ``{"code", "message", "details"?}``; unknown codes become ``internal``."""
        if isinstance(body, Mapping) and isinstance(body.get("code"), str):
            code = body["code"]
            message = body.get("message") if isinstance(body.get("message"), str) else None
            if code not in ERROR_CODES:
                return cls(
                    "internal",
                    f"{code}: {message or 'unknown error code'}",
                    body.get("details"),
                    status=status,
                )
            return cls(
                code,
                message,
                body.get("details"),
                status=status,
                retry_after=retry_after,
            )
        return cls("internal", "Malformed error body.", status=status, retry_after=retry_after)


def code_for_status(status: int) -> str:
    """The code for an HTTP refusal that carried no error body of ours (a proxy answered)."""
    mapped = {
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media_type",
        429: "rate_limited",
        502: "unavailable",
        503: "unavailable",
        504: "timeout",
    }
    if status in mapped:
        return mapped[status]
    return "internal" if status >= 500 else "invalid_message"


class Cancelled(BaseException):
    """The task (or this agent alone) was cancelled, by a watcher or by ``task.cancel()``.

    Raised by the next SDK call on the cancelled task or agent, and by a waiting ``ask()``. Like
    ``asyncio.CancelledError`` it derives from ``BaseException``, so ``except Exception`` in agent
    code does not swallow it. A task's or agent's ``with`` block ends quietly on its own cancel.
    """

    def __init__(
        self,
        reason: Optional[str] = None,
        by: Optional[str] = None,
        *,
        task_id: str = "",
        agent_id: Optional[str] = None,
    ) -> None:
        self.reason = reason
        self.by = by
        self.task_id = task_id
        self.agent_id = agent_id
        what = "The agent was cancelled" if agent_id is not None else "The task was cancelled"
        who = f" by {by}" if by else ""
        why = f": {reason}" if reason else ""
        super().__init__(f"{what}{who}{why}")
