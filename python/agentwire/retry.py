"""When to retry a batch the gateway did not store, and how long to wait first."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Optional

from .errors import AgentwireError


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per batch (the first included), and the backoff between them, in seconds.

    Eight attempts ride out a gateway restart of roughly ten seconds. A ``Retry-After`` longer than
    ``max_retry_after`` is not waited out: the batch fails instead of hanging.
    """

    attempts: int = 8
    base_delay: float = 0.1
    max_delay: float = 5.0
    max_retry_after: float = 60.0


def is_retryable(err: BaseException) -> bool:
    """Transient refusals only: the gateway unreachable, draining or overloaded (5xx, 429)."""
    return isinstance(err, AgentwireError) and (err.status == 429 or err.status >= 500)


def backoff_delay(
    attempt: int,
    min_delay: float,
    max_delay: float,
    rand: Callable[[], float] = random.random,
    factor: float = 2.0,
    jitter: float = 1.0,
) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): ``min_delay * factor ** attempt``,
    capped at ``max_delay``, jittered. ``jitter`` 1 is full jitter (uniform in [0, ceiling]). The
    same function as @agentwire/protocol's ``backoffDelay`` (which counts in whole milliseconds)."""
    grown = min_delay * factor ** min(max(0, attempt), 64)
    ceiling = min(max(min_delay, max_delay), grown)
    return ceiling * (1.0 - min(1.0, max(0.0, jitter)) * rand())


def retry_delay(
    failed_attempts: int,
    err: BaseException,
    policy: RetryPolicy,
    rand: Callable[[], float] = random.random,
) -> Optional[float]:
    """Seconds to wait before attempt ``failed_attempts + 1``, or None to give up. Jitter keeps a
    fleet of producers that failed together from retrying together."""
    if failed_attempts >= policy.attempts or not is_retryable(err):
        return None
    hinted: Optional[float] = err.retry_after if isinstance(err, AgentwireError) else None
    if hinted is not None:
        if hinted > policy.max_retry_after:
            return None
        return hinted + rand() * min(hinted * 0.1, 1.0)
    return backoff_delay(failed_attempts - 1, policy.base_delay, policy.max_delay, rand)
