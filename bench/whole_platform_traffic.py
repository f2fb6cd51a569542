"""The whole-platform benchmark's traffic: citizens logged in, the app's request mix, its sender, the task follower."""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg
from govcodes.idnumber import check_char

from bench.gateway_procs import Usage, Watched, log, snapshot
from bench.loadgen import CONNECTION_ERROR, TIMED_OUT, AiohttpSender, Done, Result, Target
from gateway.citizens import DemoSso
from localinfra.pg_admin import plain_dsn
from localinfra.stack import Stack

APP_CLIENT = aiohttp.BasicAuth("zlb-app", "demo-zlb-app")  # gateway.demo's public demo credentials
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# What citizens type into the app's search box: short words, whole phrases, pinyin, colloquial.
QUERIES = (
    *("老年证", "社保卡", "身份证", "户口", "营业执照", "结婚登记", "医保", "公积金", "居住证", "出生"),
    *("低保", "残疾证", "退休", "护照", "驾驶证", "不动产", "食品经营", "个体户", "养老保险", "失业"),
    *("laonianzheng", "shebaoka", "生孩子", "开饭店", "房产证", "身份证丢了怎么办"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
# 60 % search, 20 % guide, 15 % progress lookup, 5 % apply, interleaved evenly over 20 slots.
PATTERN = "SGSPSSGSPASGSSPSGSSS"
KIND_OF = {"S": "search", "G": "guide", "P": "progress", "A": "apply"}
POLL_S = 0.010


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank, as bench/loadgen.py computes it; NaN without samples."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Citizen:
    id_number: str
    name: str
    token: str = ""
    applications: list[tuple[str, str]] = field(default_factory=list)  # (id, case number)


def resident(index: int) -> tuple[str, str]:
    first17 = f"330702{1950 + index % 50}{1 + index % 12:02d}{1 + index % 28:02d}{index % 1000:03d}"
    return first17 + check_char(first17), SURNAMES[index % len(SURNAMES)] + "测试"


async def login(base: str, sso: DemoSso, count: int) -> list[Citizen]:
    """Each citizen logs in at the SSO and the app exchanges the assertion for a token (scrypt-checked)."""
    started = time.monotonic()
    citizens = [Citizen(*resident(i)) for i in range(count)]
    gate = asyncio.Semaphore(4)
    async with aiohttp.ClientSession() as session:

        async def one(citizen: Citizen) -> None:
            form = {"grant_type": JWT_BEARER, "assertion": sso.assertion(citizen.id_number, citizen.name)}
            async with (
                gate,
                session.post(f"{base}/api/v1/auth/token", data=form, auth=APP_CLIENT) as response,
            ):
                response.raise_for_status()
                citizen.token = (await response.json())["access_token"]

        await asyncio.gather(*(one(c) for c in citizens))
    log(f"{count} citizens logged in through the app in {time.monotonic() - started:.1f} s")
    return citizens


@dataclass(frozen=True)
class Call:
    kind: str
    method: str
    path: str
    token: str
    body: bytes | None = None
    key: str | None = None  # Idempotency-Key of an application


class Mix:
    KINDS = ("search", "guide", "progress", "apply")

    def __init__(self, citizens: list[Citizen], items: list[str], complete: list[str]) -> None:
        self.citizens = citizens
        # Round robin per kind, so no citizen comes near a route's per-caller rate limit.
        self._next = {kind: itertools.cycle(citizens) for kind in self.KINDS}
        self._queries = itertools.cycle(QUERIES)
        self._items = itertools.cycle(items)
        # Applications go to items complete with the ID number alone: accepted (受理) and routed at once.
        self._complete = itertools.cycle(complete)
        self._lookups = itertools.count()
        # POST /intake/progress once intake serves it; until then the citizen's own application.
        self.progress_endpoint = False

    def call(self, kind: str) -> Call:
        citizen = next(self._next[kind])
        if kind == "search":
            return Call(
                kind, "GET", f"/api/v1/catalog/items?q={quote(next(self._queries))}&limit=20", citizen.token
            )
        if kind == "guide":
            return Call(kind, "GET", f"/api/v1/catalog/items/{next(self._items)}/guide", citizen.token)
        if kind == "progress":
            own, case = citizen.applications[next(self._lookups) % len(citizen.applications)]
            if self.progress_endpoint:  # 进度查询: case number and ID number in the body
                lookup = json.dumps({"case_number": case, "id_number": citizen.id_number}).encode()
                return Call(kind, "POST", "/api/v1/intake/progress", citizen.token, lookup)
            return Call(kind, "GET", f"/api/v1/intake/applications/{own}", citizen.token)
        body = {
            "item_id": next(self._complete),
            "applicant_id": citizen.id_number,
            "applicant_name": citizen.name,
        }
        return Call(
            kind,
            "POST",
            "/api/v1/intake/applications",
            citizen.token,
            json.dumps(body).encode(),
            uuid.uuid4().hex,
        )

    def calls(self, count: int) -> list[Call]:
        return [self.call(KIND_OF[PATTERN[i % len(PATTERN)]]) for i in range(count)]

    def applications(self, count: int) -> list[Call]:
        return [self.call("apply") for _ in range(count)]


def _needs_only_id_card(item: dict[str, Any]) -> bool:
    required = [m for m in item["materials"] if m.get("required", True)]
    return not item.get("situations") and all(m.get("certificate_type") == "id_card" for m in required)


async def prepare_mix(stack: Stack, citizens: list[Citizen], timeout_s: float = 120) -> Mix:
    """Every item for the guides, those complete with the ID card alone for applying, once the seeded
    catalogue has reached intake's and the back office's read models (two equal counts in a row)."""
    deadline = time.monotonic() + timeout_s
    intake_db, backoffice_db = (plain_dsn(stack.database_urls[s]) for s in ("intake", "backoffice"))
    last = (-1, -1)
    while True:
        intake = await asyncpg.connect(intake_db)
        backoffice = await asyncpg.connect(backoffice_db)
        try:
            query = "SELECT to_jsonb(c) FROM catalog_item c WHERE effective_to IS NULL ORDER BY item_id"
            items = [json.loads(r[0]) for r in await intake.fetch(query)]
            known = int(await backoffice.fetchval("SELECT count(*) FROM catalog_item"))
        finally:
            await intake.close()
            await backoffice.close()
        if items and (len(items), known) == last:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the catalogue did not settle in {timeout_s} s: intake {len(items)}, backoffice {known}"
            )
        last = (len(items), known)
        await asyncio.sleep(2.0)
    complete = [i["item_id"] for i in items if _needs_only_id_card(i)]
    log(f"{len(items)} items in intake's read model, {len(complete)} complete with the ID card alone")
    return Mix(citizens, [i["item_id"] for i in items], complete)


async def seed_applications(base: str, mix: Mix, per_citizen: int) -> None:
    """Applications the progress lookups read, each citizen's own (within the 5/s per-citizen limit)."""
    sender = MixSender(base, [])
    async with sender:
        for _ in range(per_citizen):
            calls = [mix.call("apply") for _ in mix.citizens]
            results = await asyncio.gather(*(sender.request(c) for c in calls))
            for call, (status, payload) in zip(calls, results, strict=True):
                if status != 201 or payload.get("status") != "accepted":
                    raise RuntimeError(f"seeding an application failed: {status} {payload!r}"[:500])
                owner = next(c for c in mix.citizens if c.token == call.token)
                owner.applications.append((str(payload["id"]), str(payload["case_number"])))
            await asyncio.sleep(1.0)
        mix.progress_endpoint = True
        status, _ = await sender.request(mix.call("progress"))
        mix.progress_endpoint = status == 200
    how = "POST /api/v1/intake/progress" if mix.progress_endpoint else "GET /api/v1/intake/applications/{id}"
    log(f"progress lookups use {how}")


class MixSender(AiohttpSender):
    """A `bench.loadgen.Sender` for varied requests (loadgen's aiohttp sender), timed per request."""

    name = "aiohttp mix"

    def __init__(self, base: str, calls: list[Call]) -> None:
        host, port = base.removeprefix("http://").split(":")
        super().__init__(Target(host, int(port), "/"), limit=512)
        self.base = base
        self.calls = calls
        self.done_ns = [0] * len(calls)
        self.status = [0] * len(calls)
        self.accepted: dict[str, tuple[int, int]] = {}  # application id -> (index, when its 201 arrived)
        self.closed = False
        self.not_accepted = 0

    async def request(self, call: Call) -> tuple[int, dict[str, object]]:
        assert self._session is not None
        headers = {"Authorization": f"Bearer {call.token}"}
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        if call.key is not None:
            headers["Idempotency-Key"] = call.key
        try:
            async with self._session.request(
                call.method, self.base + call.path, data=call.body, headers=headers
            ) as r:
                body = await r.read()
                payload = json.loads(body) if call.kind == "apply" or r.status >= 400 else {}
                return r.status, payload if isinstance(payload, dict) else {}
        except TimeoutError as exc:  # aiohttp's own timeouts are TimeoutErrors too
            return TIMED_OUT, {"error": repr(exc)}
        except (aiohttp.ClientError, ValueError) as exc:
            return CONNECTION_ERROR, {"error": repr(exc)}

    async def _one(self, index: int, done: Done) -> None:
        status, payload = await self.request(self.calls[index])
        now = time.monotonic_ns()
        self.done_ns[index], self.status[index] = now, status
        if status == 201 and payload.get("status") == "accepted":
            self.accepted[str(payload["id"])] = (index, now)
        elif status == 201:
            self.not_accepted += 1  # returned or waiting: no task will follow
        done(index, status)

    def latencies(self, result: Result) -> dict[str, list[float]]:
        """Seconds from each answered request's intended send time, by kind (2xx and errors alike)."""
        interval = round(1e9 / result.rate)
        found: dict[str, list[float]] = {kind: [] for kind in Mix.KINDS}
        for index, call in enumerate(self.calls):
            if self.done_ns[index]:
                found[call.kind].append((self.done_ns[index] - result.started_ns - index * interval) / 1e9)
        return found

    def errors(self, kind: str) -> collections.Counter[int]:
        """Non-2xx statuses (0: connection error; unanswered requests count as -1)."""
        return collections.Counter(
            self.status[i] if self.done_ns[i] else -1
            for i, call in enumerate(self.calls)
            if call.kind == kind and not (self.done_ns[i] and 200 <= self.status[i] < 300)
        )


@dataclass(frozen=True)
class Followed:
    visible_after_accept: list[float]
    visible_after_send: list[float]
    missing: int
    poll_s: float


async def follow_tasks(
    url: str, sender: MixSender, result_of: asyncio.Future[Result], drain_s: float = 30
) -> Followed:
    """Poll the back office's database for the task of every accepted application until all are there."""
    conn = await asyncpg.connect(plain_dsn(url))
    seen: dict[str, int] = {}
    closed_at: float | None = None
    try:
        while True:
            pending = [a for a in sender.accepted if a not in seen]
            if pending:
                rows = await conn.fetch(
                    "SELECT application_id FROM task WHERE application_id = ANY($1::text[])", pending
                )
                now = time.monotonic_ns()
                seen.update((r[0], now) for r in rows)
            if sender.closed:
                closed_at = closed_at or time.monotonic()
                if len(seen) == len(sender.accepted) or time.monotonic() - closed_at > drain_s:
                    break
            await asyncio.sleep(POLL_S)
    finally:
        await conn.close()
    result = await result_of
    interval = round(1e9 / result.rate)
    after_accept = [(seen[a] - at) / 1e9 for a, (_, at) in sender.accepted.items() if a in seen]
    after_send = [
        (seen[a] - result.started_ns - i * interval) / 1e9
        for a, (i, _) in sender.accepted.items()
        if a in seen
    ]
    return Followed(after_accept, after_send, len(sender.accepted) - len(seen), POLL_S)


class StackCpu:
    """CPU of every stack process (PostgreSQL with its backends) and of this process, per phase."""

    def __init__(self, stack: Stack) -> None:
        self.watched = [Watched(name, p.pid) for name, p in stack.processes.items()]
        if stack.kafka is not None and stack.kafka.pid is not None:
            self.watched.append(Watched("kafka", stack.kafka.pid))
        if stack.postgres is not None and stack.postgres.pid is not None:
            self.watched.append(Watched("postgres", stack.postgres.pid, tree=True))
        self._before = snapshot(self.watched)

    def start(self) -> None:
        self._before = snapshot(self.watched)

    def stop(self) -> str:
        usage = Usage.between(self._before, snapshot(self.watched))
        shares = sorted(usage.cpu.items(), key=lambda kv: -kv[1])
        top = ", ".join(f"{name} {100 * s / usage.wall:.0f}%" for name, s in shares[:8])
        return f"{top} of a core; other work {usage.outside_pct:.0f}% of the machine"
