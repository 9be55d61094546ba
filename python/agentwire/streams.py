"""Stream names, as @agentwire/protocol's streams.ts defines them (docs/protocol.md, "Streams").

The constants are checked against the TypeScript ones by python/tests/python-sdk.test.ts.
"""

import re
from typing import Optional

STREAM_NAME_PATTERN = r"^(?:system|[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9][A-Za-z0-9._~-]{0,127})$"
MAX_STREAM_NAME_LENGTH = 161
TASK_STREAM_PREFIX = "task:"
PROJECT_STREAM_PREFIX = "project:"
SYSTEM_STREAM = "system"

_STREAM = re.compile(STREAM_NAME_PATTERN)


def is_stream_name(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_STREAM_NAME_LENGTH and bool(_STREAM.match(value))


def task_stream(task_id: str) -> str:
    """The stream of task ``task_id``, unchecked: check it with ``is_stream_name`` when the id comes from outside."""
    return TASK_STREAM_PREFIX + task_id


def project_stream(project_id: str) -> str:
    """The stream of project ``project_id``, unchecked like ``task_stream``."""
    return PROJECT_STREAM_PREFIX + project_id


def task_id_of(stream: str) -> Optional[str]:
    """The task id of a ``task:<id>`` stream, or None for any other stream."""
    return stream[len(TASK_STREAM_PREFIX) :] if stream.startswith(TASK_STREAM_PREFIX) else None


def project_id_of(stream: str) -> Optional[str]:
    """The project id of a ``project:<id>`` stream, or None for any other stream."""
    return stream[len(PROJECT_STREAM_PREFIX) :] if stream.startswith(PROJECT_STREAM_PREFIX) else None
