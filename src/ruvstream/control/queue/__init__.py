"""The control plane's work queue: in memory (on a clock) or on a JetStream work-queue stream."""

from .base import Job, WorkQueue, check_queue, queue_token
from .memory import MemoryWorkQueue

__all__ = ["Job", "MemoryWorkQueue", "WorkQueue", "check_queue", "queue_token"]
