"""Turns whatever was raised into the catalog's ErrorInfo."""

from __future__ import annotations

from typing import Any, Dict

_MAX_MESSAGE = 4000


def to_error_info(error: Any) -> Dict[str, Any]:
    """``{"message", "code"?}``. Tracebacks are left out on purpose: watchers may be end users, and
    a failure report must not leak file paths. Messages are clipped rather than refused, because
    failing to report a failure would hide it entirely."""
    if isinstance(error, BaseException):
        message = str(error) or type(error).__name__
        info: Dict[str, Any] = {"message": _clip(message)}
        code = getattr(error, "code", None)
        if isinstance(code, str) and 0 < len(code) <= 128:
            info["code"] = code
        return info
    if isinstance(error, str):
        return {"message": _clip(error)}
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        info = {"message": _clip(error["message"])}
        if isinstance(error.get("code"), str):
            info["code"] = error["code"][:128]
        return info
    return {"message": _clip(str(error))}


def _clip(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "\u2026"
