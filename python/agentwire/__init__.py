"""agentwire producer SDK for Python: publish what your agents do to an agentwire gateway, and take
watchers' cancels, answers and messages back.

    import agentwire

    with agentwire.connect("http://localhost:7070", token) as aw:
        with aw.start_task("Compare vector databases") as task:
            with task.spawn_agent("researcher", model="gpt-4o") as agent:
                with agent.tool("search", {"q": "vector db"}) as call:
                    call.result = ["pgvector", "qdrant"]
"""

from .agent import Agent
from .cancel import CancelSignal
from .errors import ERROR_CODES, AgentwireError, Cancelled
from .inbox import ChatMessage
from .message import Message
from .outbox import Ack
from .producer import Producer, connect
from .question import Answer
from .retry import RetryPolicy
from .streams import (
    PROJECT_STREAM_PREFIX,
    SYSTEM_STREAM,
    TASK_STREAM_PREFIX,
    project_id_of,
    project_stream,
    task_id_of,
    task_stream,
)
from .task import Task
from .tool_call import ToolCall
from .worker import Worker

__version__ = "0.1.0"

__all__ = [
    "Ack",
    "Agent",
    "AgentwireError",
    "Answer",
    "CancelSignal",
    "Cancelled",
    "ChatMessage",
    "ERROR_CODES",
    "Message",
    "PROJECT_STREAM_PREFIX",
    "Producer",
    "RetryPolicy",
    "SYSTEM_STREAM",
    "TASK_STREAM_PREFIX",
    "Task",
    "ToolCall",
    "Worker",
    "__version__",
    "connect",
    "project_id_of",
    "project_stream",
    "task_id_of",
    "task_stream",
]
