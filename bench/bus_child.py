"""bench/bus: the parent's handle on a child process (relay, consumers) and its stdin/stdout protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from localinfra.proc import die_with_parent

BUS_SCRIPT = Path(__file__).resolve().with_name("bus.py")  # children are the entry script with --role
STOP_TIMEOUT_S = 30.0


class Child:
    """A child process of this benchmark, spawned as `bus.py --role ...` (bus_roles runs it).

    The child prints "progress <monotonic> <count>" lines while it runs and one "result <json>"
    line at the end. Closing its stdin (or SIGTERM) asks it to stop; it also dies with this process.
    """

    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.proc = proc
        self.count = 0
        self.result: dict[str, Any] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def spawn(cls, name: str, *args: str) -> Child:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(BUS_SCRIPT),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,  # the result line carries every timestamp
            preexec_fn=die_with_parent,
        )
        return cls(name, proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            kind, _, rest = raw.decode().rstrip("\n").partition(" ")
            if kind == "progress":
                self.count = int(rest.split()[1])
            elif kind == "result":
                self.result = json.loads(rest)
            else:
                print(f"[{self.name}] {kind} {rest}", file=sys.stderr)

    async def wait_count(self, n: int, timeout_s: float) -> bool:
        """Wait until the child has counted `n` events; False when `timeout_s` runs out first."""
        deadline = time.monotonic() + timeout_s
        while self.count < n:
            if self.proc.returncode is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}")
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def finish(self) -> dict[str, Any]:
        """Ask the child to stop, wait (bounded), kill it if need be; returns its result."""
        if self.proc.returncode is None and self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            print(f"{self.name} did not stop within {STOP_TIMEOUT_S} s: killing it", file=sys.stderr)
            self.kill()
            await asyncio.wait_for(self.proc.wait(), 10)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reader, 10)
        return self.result

    def kill(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
