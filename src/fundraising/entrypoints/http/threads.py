"""Running the synchronous use cases (SQLAlchemy) off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio.to_thread

R = TypeVar("R")


async def in_thread(function: Callable[..., R], *args: object) -> R:
    """Call `function(*args)` in the worker-thread pool (sized to the database pool)."""
    return await anyio.to_thread.run_sync(partial(function, *args))


def size_thread_pool(threads: int) -> None:
    """As many threads as database connections: more would only wait for a connection."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
