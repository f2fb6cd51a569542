"""A steady, open-loop stream of applications through the gateway, every answer recorded.

Request i is due at t0 + i/rate whatever earlier answers did, so an outage cannot slow the stream
down and hide itself. Each request has a client timeout longer than the gateway's upstream
timeout (10 s): a request that runs into it is a hang, which the tests refuse.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import time
import uuid
from dataclasses import dataclass
from types import TracebackType

import httpx

from tests.harness import Platform

CLIENT_TIMEOUT_S = 15.0
TIMED_OUT = -1
CONNECTION_ERROR = 0


@dataclass(frozen=True)
class Outcome:
    key: str  # the Idempotency-Key sent
    status: int  # HTTP status; 0 = connection error, -1 = no answer within CLIENT_TIMEOUT_S
    code: str | None  # the problem's `code` on an error
    application_id: str | None
    case_number: str | None
    application_status: str | None  # what intake made of it: "accepted" (受理) for these items
    due: float  # monotonic time the request was due
    latency_s: float


class ApplicationLoad:
    """`async with ApplicationLoad(platform, rate) as load:` sends until the block ends."""

    def __init__(self, platform: Platform, rate: float, label: str) -> None:
        self.platform = platform
        self.rate = rate
        self.label = label
        self.outcomes: list[Outcome] = []
        self._stop = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._pacer: asyncio.Task[None] | None = None
        self._client = httpx.AsyncClient(
            base_url=platform.base_url,
            timeout=CLIENT_TIMEOUT_S,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )
        self._citizens = itertools.cycle(platform.citizens)
        self._items = itertools.cycle(platform.items)

    async def __aenter__(self) -> ApplicationLoad:
        self._pacer = asyncio.create_task(self._pace(), name=f"load-{self.label}")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._pacer is not None:
            await self._pacer
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=CLIENT_TIMEOUT_S + 5)
        await self._client.aclose()

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for index in itertools.count():
            delay = t0 + index / self.rate - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
            if self._stop.is_set():
                return
            task = asyncio.create_task(self._apply(time.monotonic()))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _apply(self, due: float) -> None:
        citizen = next(self._citizens)
        key = f"rel-{self.label}-{uuid.uuid4().hex}"
        body = {
            "item_id": next(self._items),
            "applicant_id": citizen.id_number,
            "applicant_name": citizen.name,
            "channel": "online",
        }
        status, code, application_id, case_number, state = CONNECTION_ERROR, None, None, None, None
        try:
            token = await self.platform.token(self._client, citizen)
            response = await self._client.post(
                "/api/v1/intake/applications",
                json=body,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            )
            status = response.status_code
            payload = response.json() if response.content else {}
            if 200 <= status < 300:
                application_id, case_number, state = payload["id"], payload["case_number"], payload["status"]
            else:
                code = payload.get("code")
        except httpx.TimeoutException:
            status = TIMED_OUT
        except httpx.TransportError:
            status = CONNECTION_ERROR
        self.outcomes.append(
            Outcome(key, status, code, application_id, case_number, state, due, time.monotonic() - due)
        )

    def statuses(self) -> collections.Counter[int]:
        return collections.Counter(o.status for o in self.outcomes)

    def accepted(self) -> list[Outcome]:
        return [o for o in self.outcomes if 200 <= o.status < 300]

    def during(self, start: float, end: float) -> list[Outcome]:
        """Requests due between two monotonic instants (e.g. while a dependency was down)."""
        return [o for o in self.outcomes if start <= o.due <= end]

    def summary(self) -> str:
        latencies = sorted(o.latency_s for o in self.outcomes)
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else float("nan")
        return f"{self.label}: {len(self.outcomes)} sent, statuses {dict(self.statuses())}, p99 {p99:.3f} s"


class Probe:
    """A steady GET through the gateway (e.g. a department's worklist), its statuses by due time."""

    def __init__(self, platform: Platform, path: str, token: str, rate: float) -> None:
        self.platform = platform
        self.path = path
        self.token = token
        self.rate = rate
        self.answers: list[tuple[float, int]] = []  # (due, status)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Probe:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.platform.base_url, timeout=CLIENT_TIMEOUT_S) as client:
            while not self._stop.is_set():
                due = time.monotonic()
                try:
                    status = (await client.get(self.path, headers=headers)).status_code
                except httpx.TimeoutException:
                    status = TIMED_OUT
                except httpx.TransportError:
                    status = CONNECTION_ERROR
                self.answers.append((due, status))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._stop.wait(), max(0.0, due + 1 / self.rate - time.monotonic())
                    )

    def statuses(self, start: float = 0.0, end: float = float("inf")) -> collections.Counter[int]:
        return collections.Counter(s for due, s in self.answers if start <= due <= end)
