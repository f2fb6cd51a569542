"""Intake benchmark: applications submitted per second (with the outbox, on PostgreSQL) and their p99,
beside a plain insert-and-return endpoint of the same service, over HTTP, in the same run.

    .venv/bin/python bench/intake.py [--requests 2000] [--rounds 3] [--concurrency 16] [--no-wait]

One run starts its own PostgreSQL cluster with fsync on (localinfra.postgres.start_postgres(durable=
True)), migrates the intake database, loads two items into its read model (as `catalog.items` would)
and serves intake with uvicorn (1 worker, uvloop, httptools) in a subprocess. The app served is
`bench.intake:app`: intake itself plus POST /bench/plain, which exists only here. Over HTTP (aiohttp,
the gateway's signed identity header per request) it runs a warm-up, then `rounds` rounds of

  (a) submit: POST /applications from `concurrency` citizens at once, each with their own ID number
      and Idempotency-Key, the ID card and the 户口簿 as a datashare evidence reference: a complete
      application, accepted at once (item version pinned, case number, material and history rows,
      the `intake.application.accepted` event in the outbox, one transaction);
  (b) plain: POST /bench/plain with the same bodies and callers: the same identity check and body
      validation, then one row inserted and its id returned.

Goals: submissions >= 200/s, and submit p99 <= 2 x plain p99 (medians over the rounds). Afterwards it
checks that every submission was accepted with its own case number and exactly one outbox event.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# `python bench/intake.py` puts bench/ first on sys.path, where this very file would shadow the intake
# package (and bench/platform.py the standard library's): the repository root goes there instead, first
# thing, which also makes `bench.intake` importable for uvicorn.
if sys.path and Path(sys.path[0]).resolve() == REPO / "bench":
    sys.path[0] = str(REPO)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from fastapi import APIRouter, Depends, FastAPI  # noqa: E402
from govcodes.idnumber import check_char  # noqa: E402

from bench.hall import log, ms, percentile, wait_ready  # noqa: E402
from contracts.catalog import ItemPublished, MaterialSpec  # noqa: E402
from contracts.envelope import new_event  # noqa: E402
from intake.applications.schemas import ApplicationCreate  # noqa: E402
from intake.db import MIGRATIONS_DIR  # noqa: E402
from localinfra.ports import free_port  # noqa: E402
from localinfra.postgres import start_postgres  # noqa: E402
from localinfra.proc import die_with_parent  # noqa: E402
from servicekit.auth import requires  # noqa: E402
from servicekit.db import make_engine, make_sessionmaker  # noqa: E402
from servicekit.deps import SessionDep  # noqa: E402
from servicekit.identity import HEADER, Identity, sign  # noqa: E402
from servicekit.migrations import upgrade  # noqa: E402

GOAL_RATE = 200.0
GOAL_RATIO = 2.0
QUIET_WAIT_S = 600.0
OTHERS = r"bench/[a-z_]+\.py"  # any benchmark but this one (filtered out below)
ITEMS = ("wc-mzj-ylbt", "wc-rsj-sbk")  # two implementation codes: 9,999 case numbers a day each
PLAIN = sa.Table(
    "bench_plain",
    sa.MetaData(),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("item_id", sa.String(40), nullable=False),
    sa.Column("applicant_id", sa.String(18), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def app() -> FastAPI:
    """Factory for `uvicorn --factory bench.intake:app`: intake plus the plain endpoint of this benchmark."""
    from intake.main import app as intake_app

    service = intake_app()
    router = APIRouter()

    @router.post("/bench/plain", status_code=201, dependencies=[Depends(requires("intake:apply"))])
    async def plain(body: ApplicationCreate, session: SessionDep) -> dict[str, str]:
        row = {"id": uuid.uuid4().hex, "item_id": body.item_id, "applicant_id": body.applicant_id}
        async with session.begin():
            await session.execute(PLAIN.insert().values(**row, created_at=datetime.now(UTC)))
        return {"id": row["id"]}

    service.include_router(router)
    return service


def id_number(n: int) -> str:
    born = date(1940, 1, 1) + timedelta(days=n % 20000)
    first17 = "330702" + born.strftime("%Y%m%d") + f"{n // 20000 % 1000:03d}"
    return first17 + check_char(first17)


def item(item_id: str, base_code: str) -> ItemPublished:
    card = MaterialSpec(name="居民身份证", required=True, key=True, rongque=False, certificate_type="id_card")
    book = MaterialSpec(name="居民户口簿", required=True, key=False, rongque=False, certificate_type="hukou")
    form = MaterialSpec(name="申请表", required=False, key=False, rongque=False)
    return ItemPublished(
        item_id=item_id,
        version=1,
        base_code=base_code,
        implementation_code="11330702002609732X4" + base_code,
        name=f"基准事项{item_id}",
        department_code=item_id[:6],
        handling_type="承诺件",
        deciding_level="district",
        promised_limit_days=5,
        promised_limit_unit="工作日",
        trips=0,
        minsheng=True,
        materials=[card, book, form],
        effective_from=date(2026, 1, 1),
    )


async def prepare_database(url: str) -> None:
    from intake.handlers import item_published

    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(PLAIN.metadata.create_all)
    async with make_sessionmaker(engine)() as session, session.begin():
        for item_id, base in zip(ITEMS, ("000524007000", "332010001000"), strict=True):
            data = item(item_id, base)
            await item_published(
                session,
                new_event(type="catalog.item.published", source="/catalog", subject=item_id, data=data),
            )
    await engine.dispose()


async def check_results(url: str, submitted: int) -> str:
    engine = make_engine(url)
    async with engine.connect() as conn:

        async def one(sql: str) -> int:
            return int((await conn.execute(sa.text(sql))).scalar_one())

        accepted = await one("SELECT count(*) FROM application WHERE status = 'accepted'")
        numbers = await one("SELECT count(DISTINCT case_number) FROM application")
        events = await one("SELECT count(*) FROM outbox WHERE event_type = 'intake.application.accepted'")
    await engine.dispose()
    ok = accepted == numbers == events == submitted
    verdict = "OK" if ok else "MISMATCH"
    return f"{submitted} submitted: {accepted} accepted, {numbers} case numbers, {events} outbox events: {verdict}"


class Load:
    """Bodies and callers for request n; the same n gives the same body to both endpoints."""

    def __init__(self, base: str, key: bytes, session: aiohttp.ClientSession) -> None:
        self.base, self.key, self.session = base, key, session
        self.next = 0

    def request(self, n: int) -> tuple[dict[str, Any], dict[str, str]]:
        number = id_number(n)
        citizen = Identity(
            kind="citizen", client_id="zlb-app", scopes=frozenset({"intake:apply"}), citizen_id=number
        )
        body = {
            "item_id": ITEMS[n % 2],
            "item_version": 1,
            "applicant_id": number,
            "applicant_name": "测试申请人",
            "applicant_phone": "13800000000",
            "materials": [{"name": "居民户口簿", "evidence_ref": f"ev-{n}"}],
        }
        return body, {HEADER: sign(citizen, self.key), "Idempotency-Key": f"bench-{n}"}

    async def round(self, path: str, first: int, count: int, concurrency: int) -> tuple[float, list[float]]:
        latencies: list[float] = []
        numbers = iter(range(first, first + count))

        async def client() -> None:
            for n in numbers:
                body, headers = self.request(n)
                started = time.perf_counter()
                async with self.session.post(self.base + path, json=body, headers=headers) as response:
                    await response.read()
                    elapsed = time.perf_counter() - started
                if response.status != 201:
                    raise RuntimeError(f"POST {path} -> {response.status}: {await response.text()}")
                latencies.append(elapsed)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return count / (time.perf_counter() - started), latencies


async def measure(
    base: str, key: bytes, args: argparse.Namespace
) -> tuple[list[tuple[float, float, float]], ...]:
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        load = Load(base, key, session)
        warm = min(300, args.requests)
        await load.round("/applications", 10_000_000, warm, args.concurrency)
        await load.round("/bench/plain", 10_000_000, warm, args.concurrency)
        submits, plains = [], []
        for r in range(args.rounds):
            first = r * args.requests
            rate, lat = await load.round("/applications", first, args.requests, args.concurrency)
            submits.append((rate, percentile(lat, 0.5), percentile(lat, 0.99)))
            rate, lat = await load.round("/bench/plain", first, args.requests, args.concurrency)
            plains.append((rate, percentile(lat, 0.5), percentile(lat, 0.99)))
            (s_rate, _, s_p99), (p_rate, _, p_p99) = submits[-1], plains[-1]
            log(f"round {r + 1}: submit {s_rate:.0f}/s p99 {ms(s_p99)}, plain {p_rate:.0f}/s p99 {ms(p_p99)}")
    return submits, plains


def report(
    submits: list[tuple[float, float, float]],
    plains: list[tuple[float, float, float]],
    quiet: str,
    check: str,
) -> None:
    submit = [statistics.median(s[i] for s in submits) for i in range(3)]
    plain = [statistics.median(p[i] for p in plains) for i in range(3)]
    print(
        f"\nmachine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} at the end, {quiet}, "
        f"Python {platform.python_version()}, PostgreSQL fsync on"
    )
    for name, (rate, p50, p99) in (("submit (with outbox)", submit), ("plain insert-and-return", plain)):
        print(f"{name:<26}{rate:>10,.0f} /s{'p50 ' + ms(p50):>16}{'p99 ' + ms(p99):>16}")
    ratio = submit[2] / plain[2]
    print(f"{'submit p50 / plain p50':<26}{submit[1] / plain[1]:>12.2f}")
    rate_ok, ratio_ok = submit[0] >= GOAL_RATE, ratio <= GOAL_RATIO
    print(
        f"{'submissions per second':<26}{submit[0]:>12,.0f}   goal >= {GOAL_RATE:.0f}   {'PASS' if rate_ok else 'FAIL'}"
    )
    print(
        f"{'submit p99 / plain p99':<26}{ratio:>12.2f}   goal <= {GOAL_RATIO:.1f}   {'PASS' if ratio_ok else 'FAIL'}"
    )
    print(f"check: {check}")


def others() -> list[str]:
    """Pids of the benchmarks running besides this one (its own processes name bench/intake.py)."""
    listed = subprocess.run(["pgrep", "-af", OTHERS], capture_output=True, text=True).stdout.splitlines()
    return [line.split()[0] for line in listed if "bench/intake.py" not in line]


def wait_for_quiet(limit_s: float) -> str:
    """Wait (bounded) for the other benchmarks on these two cores to finish; returns a note."""
    deadline, said = time.monotonic() + limit_s, False
    while busy := others():
        if time.monotonic() > deadline:
            log(f"WARNING: other benchmarks still running (pids {busy}); measuring anyway")
            return "other benchmarks RUNNING"
        if not said:
            log(f"other benchmarks running (pids {busy}); waiting up to {limit_s / 60:.0f} min")
            said = True
        time.sleep(5)
    return "no other benchmark running"


def serve(port: int, env: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "bench.intake:app", "--port", str(port)]
    cmd += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    with (workdir / "intake.log").open("wb") as out:
        return subprocess.Popen(
            cmd,
            cwd=REPO,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-wait", action="store_true", help="do not wait for other benchmarks")
    parser.add_argument("--max-wait", type=float, default=QUIET_WAIT_S, help="seconds to wait for quiet")
    args = parser.parse_args()
    if args.requests * args.rounds > 19_000:
        parser.error("at most 19,000 submissions a run: 9,999 case numbers per item and day")
    quiet = "not checked (--no-wait)" if args.no_wait else wait_for_quiet(args.max_wait)
    quiet += f", load {os.getloadavg()[0]:.2f} at the start"
    key = secrets.token_hex(32)
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        cluster = start_postgres(durable=True)
        stack.callback(cluster.close)
        url = cluster.create_database("intake")
        upgrade(MIGRATIONS_DIR, url)
        asyncio.run(prepare_database(url))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = serve(port, {"INTAKE_DATABASE_URL": url, "INTAKE_INTERNAL_TOKEN_KEY": key}, Path(tmp))
        stack.callback(server.wait, 15)
        stack.callback(server.terminate)
        wait_ready(base, server)
        log(f"intake on {base}, PostgreSQL {cluster!r}")
        submits, plains = asyncio.run(measure(base, key.encode(), args))
        check = asyncio.run(check_results(url, args.requests * args.rounds + min(300, args.requests)))
        report(submits, plains, quiet, check)


if __name__ == "__main__":
    main()
