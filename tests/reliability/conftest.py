"""The fault tests share the session's stack (tests/conftest.py); after each, whatever it broke runs again."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from localinfra.stack import Stack

log = logging.getLogger("reliability")


@pytest.fixture(autouse=True)
def heal(stack: Stack) -> Iterator[None]:
    """Restart what a test left stopped, paused or crashed, so one failure does not cascade into the next."""
    yield
    for name, process in stack.processes.items():
        if process.poll() is None:
            stack.resume(name)  # SIGCONT; harmless when the process was not paused
        else:
            log.warning("reliability: %s had exited (code %s); starting it again", name, process.returncode)
            stack.respawn(name)
    if stack.kafka is not None and not stack.kafka.running:
        stack.kafka.start()
    for cluster in {id(c): c for c in stack.clusters.values()}.values():
        if not cluster.running:
            cluster.start()
