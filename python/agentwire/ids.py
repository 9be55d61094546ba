"""Ids for events, tasks, agents, tool calls and messages."""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last_ms = -1
_counter = 0


def new_id() -> str:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, a 12-bit counter, then random bits.

    Ids that grow with time go in at the end of the gateway's id index instead of at random pages,
    the way the TypeScript SDK makes them. The counter keeps ids of one process ordered within a
    millisecond.
    """
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:
                ms += 1
                _counter = 0
        else:
            _counter = 0
        _last_ms = ms
        counter = _counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & 0xFFFFFFFFFFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
