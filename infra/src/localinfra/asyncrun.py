"""Run a coroutine to completion from synchronous code, even inside a running event loop."""

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]], timeout: float) -> T:
    """Run `factory()` on a fresh event loop and return its result, bounded by `timeout` seconds.

    Fixtures and helpers such as KafkaBroker.restart() are synchronous but get called from async
    tests; asyncio.run() refuses to nest, so in that case the coroutine runs on a helper thread
    with its own loop (the caller's loop is blocked meanwhile, which is fine for test tooling).
    """

    async def bounded() -> T:
        return await asyncio.wait_for(factory(), timeout)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(bounded())

    results: list[T] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(asyncio.run(bounded()))
        except BaseException as exc:  # re-raised in the caller's thread below
            errors.append(exc)

    thread = threading.Thread(target=worker, name="localinfra-run-sync", daemon=True)
    thread.start()
    # The inner wait_for bounds the work; the extra margin only covers loop start-up/teardown.
    thread.join(timeout + 10)
    if thread.is_alive():
        raise TimeoutError(f"coroutine did not finish within {timeout} s")
    if errors:
        raise errors[0]
    return results[0]
