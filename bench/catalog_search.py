"""Catalog search benchmark: ranked top-20 search beside get-by-id, in-process and through HTTP.

    .venv/bin/python bench/catalog_search.py [--sizes 10000,100000] [--rate 200] [--seconds 10]

Starts its own PostgreSQL cluster with shared_buffers 1 GB, sized for 100k items (or uses the server
of DATABASE_URL as it is). For each size it migrates a fresh database, loads the shipped Wucheng
catalogue through the normal publish path (376 items, indexed as published), then adds generated
variants of those items up to the size: the same guide under a qualified name (e.g.
居民身份证首次申领（跨省通办3）), so every query matches size/376 times as many rows as in the real
catalogue (社保: 13 items, 351 at 10k, about 3,500 at 100k). A search reads at most 300 matches
(catalog.search.sql.PG_CAP): above that its total and facets are estimates, and the run prints how
many searches of each kind were. Then, in one run:

  - in-process: `catalog.search.query.search` + highlighting, and `service.get_item` + ItemPublic,
    interleaved, one at a time, each with its own session (like a request);
  - through HTTP: the catalog service in uvicorn (1 worker, uvloop, httptools), requests at a fixed
    rate, open loop (bench/loadgen.py: latency from the intended send time), get-by-id first, then
    2-character, 4-character and other queries (pinyin, initials, Traditional, colloquial).

Goals: search p99 <= 5 ms (10k) / 10 ms (100k) through HTTP; 2-char p99 <= 2x 4-char p99; search
p99 <= 1.5x get-by-id p99. Percentiles are nearest-rank.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.client
import math
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == REPO / "bench":
    sys.path[0] = str(REPO)  # so that `bench.loadgen` imports as mypy sees it

from bench.loadgen import Done, RawPool, Result, Target, open_loop  # noqa: E402
from catalog import service  # noqa: E402
from catalog.db import MIGRATIONS_DIR  # noqa: E402
from catalog.models import ItemVersion  # noqa: E402
from catalog.schemas import ItemPublic  # noqa: E402
from catalog.search.highlight import highlight  # noqa: E402
from catalog.search.index import SEARCH_TABLE, build_row  # noqa: E402
from catalog.search.query import Filters, search  # noqa: E402
from catalog.search.text import index_words, key  # noqa: E402
from catalog.seed import load_wucheng  # noqa: E402
from localinfra.pg_external import ExternalPostgres  # noqa: E402
from localinfra.ports import free_port  # noqa: E402
from localinfra.postgres import PostgresCluster, start_postgres  # noqa: E402
from localinfra.proc import die_with_parent  # noqa: E402
from servicekit.db import make_engine, make_sessionmaker  # noqa: E402
from servicekit.identity import HEADER, Identity, sign  # noqa: E402
from servicekit.migrations import upgrade  # noqa: E402

HOST = "127.0.0.1"
SHARED_BUFFERS = "1GB"
_TWO = "社保 户口 身份 低保 医保 护照 婚检 退休 离婚 驾照 发票 公章"
_FOUR = "营业执照 结婚登记 养老保险 居住登记 出生登记 失业保险 食品经营 不动产权"
_OTHER = "laonianzheng lnz shbzk 開飯店 生孩子 房产证 身份证丢了怎么办 我要办身份证"
QUERIES = {"2-char": _TWO.split(), "4-char": _FOUR.split(), "other": _OTHER.split()}
_QUALIFIERS = "告知承诺制 跨省通办 全省通办 容缺受理 网上办理 窗口办理 村社代办 帮办代办 自助办理 预约办理"
QUALIFIERS = _QUALIFIERS.split()
READER = Identity(kind="system", client_id="bench", scopes=frozenset({"catalog:read"}))
Timings = dict[str, list[float]]


async def grow(url: str, size: int) -> None:
    """Variants of the published items, in item_version and in the index, up to `size` items."""
    engine = make_engine(url)
    async with engine.begin() as conn:
        items = (await conn.execute(sa.select(ItemVersion.__table__))).mappings().all()
        rows = {r["item_id"]: r for r in (await conn.execute(sa.select(SEARCH_TABLE))).mappings()}
    started = time.perf_counter()
    built = [build_row(ItemVersion(**item), "") for item in items]
    chars = sum(len(r["name"]) + len(r["synonyms"]) + len(r["body"]) for r in built)
    print(
        f"index rows: {chars / (time.perf_counter() - started):,.0f} chars/s of item text (jieba + pypinyin)"
    )
    words = {q: " ".join(index_words(q)) for q in QUALIFIERS}
    versions: list[dict[str, Any]] = []
    indexed: list[dict[str, Any]] = []
    for n in range(size - len(items)):
        item = items[n % len(items)]
        qualifier = QUALIFIERS[n % len(QUALIFIERS)]
        name = f"{item['name']}（{qualifier}{n // len(items)}）"
        item_id = f"{item['item_id'][:30]}-{n}"
        versions.append({**item, "item_id": item_id, "name": name, "implementation_code": f"B{n:032d}"})
        row = rows[item["item_id"]]
        indexed.append(
            {
                **row,
                "item_id": item_id,
                "name": name,
                "name_length": len(name),
                "name_words": f"{row['name_words']} {words[qualifier]}",
                "keys": f"{row['keys']}{key(name)}|",
            }
        )
        if len(versions) == 2000 or n == size - len(items) - 1:
            async with engine.begin() as conn:
                await conn.execute(sa.insert(ItemVersion), versions)
                await conn.execute(sa.insert(SEARCH_TABLE), indexed)
            versions, indexed = [], []
    async with engine.connect() as conn:
        await conn.execute(sa.text("COMMIT"))
        await conn.execute(sa.text("VACUUM ANALYZE"))
        # Write the loaded pages out now, not during the measured requests (100k items dirty ~1 GB).
        try:
            await conn.execute(sa.text("CHECKPOINT"))
        except sa.exc.DBAPIError as exc:  # an external server's role may not be allowed to
            print(f"no CHECKPOINT before measuring: {exc.orig}")
    await engine.dispose()


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


async def in_process(url: str, count: int) -> Timings:
    """Search and get-by-id interleaved, each call in its own session like a request."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        ids = list(await session.scalars(sa.select(ItemVersion.item_id).limit(500)))
    timings: Timings = {"get-by-id": [], **{kind: [] for kind in QUERIES}}
    estimated = dict.fromkeys(QUERIES, 0)

    async def by_id(i: int) -> None:
        async with sessions() as session:
            ItemPublic.model_validate(await service.get_item(session, ids[i % len(ids)]))

    async def searched(kind: str, i: int) -> None:
        queries = QUERIES[kind]
        async with sessions() as session:  # as the route does: search picks its transaction
            found = await search(session, queries[i % len(queries)], Filters(), offset=0, limit=20)
        estimated[kind] += found.estimated
        for row in found.rows:
            highlight(found.plan, row["name"], row["synonyms"], row["body"])

    calls: list[tuple[str, Callable[[int], Awaitable[None]]]] = [("get-by-id", by_id)]
    calls += [(kind, functools.partial(searched, kind)) for kind in QUERIES]
    for i in range(count + 100):
        for kind, call in calls:
            started = time.perf_counter_ns()
            await call(i)
            if i >= 100:  # the first 100 rounds warm caches and prepared statements
                timings[kind].append((time.perf_counter_ns() - started) / 1e6)
    await engine.dispose()
    calls_ = count + 100
    print(
        "estimated totals (more than 300 matches): "
        + ", ".join(f"{k} {v}/{calls_}" for k, v in estimated.items())
    )
    return timings


class Rotating:
    """Request i goes to path i mod n, each path with its own keep-alive pool (prebuilt requests)."""

    name = "raw HTTP/1.1, a pool per path"

    def __init__(self, pools: list[RawPool]) -> None:
        self.pools = pools

    def send(self, index: int, done: Done) -> None:
        self.pools[index % len(self.pools)].send(index, done)


async def http_run(port: int, key_: bytes, paths: list[str], rate: float, seconds: float) -> Result:
    headers = {HEADER: sign(READER, key_)}  # valid for 60 s: signed again for every run
    pools = [RawPool(Target(HOST, port, path, headers), size=2) for path in paths]
    for pool in pools:
        await pool.__aenter__()
    try:
        await open_loop(Rotating(pools), rate, 2.0)  # warm-up, discarded
        result = await open_loop(Rotating(pools), rate, seconds)
    finally:
        for pool in pools:
            await pool.__aexit__(None, None, None)
    if result.errors:
        raise RuntimeError(f"{result.errors} failed requests: {dict(result.statuses)}")
    return result


def get(port: int, path: str, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


async def through_http(url: str, rate: float, seconds: float, workdir: Path) -> Timings:
    port, internal_key = free_port(), secrets.token_hex(16)
    env = {**os.environ, "CATALOG_DATABASE_URL": url, "CATALOG_INTERNAL_TOKEN_KEY": internal_key}
    log = (workdir / f"catalog-{port}.log").open("wb")
    cmd = ["-m", "uvicorn", "--factory", "catalog.main:app", "--host", HOST, "--port", str(port)]
    cmd += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    server = await asyncio.create_subprocess_exec(
        sys.executable, *cmd, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/readyz", {}) == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.returncode is not None:
                raise RuntimeError(f"catalog did not start, see {log.name}")
            await asyncio.sleep(0.2)
        engine = make_engine(url)
        async with engine.connect() as conn:
            ids = list(await conn.scalars(sa.select(ItemVersion.item_id).limit(500)))
        await engine.dispose()
        runs = {"get-by-id": [f"/items/{i}" for i in ids]}
        runs |= {
            kind: [f"/items?q={quote(q)}&limit=20" for q in queries] for kind, queries in QUERIES.items()
        }
        timings: Timings = {}
        for kind, paths in runs.items():
            result = await http_run(port, internal_key.encode(), paths, rate, seconds)
            timings[kind] = [ns / 1e6 for ns in result.latencies_ns]
        return timings
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 15)
        log.close()


def report(size: int, path: str, timings: Timings, rows: list[str]) -> dict[str, float]:
    p99 = {kind: pct(values, 0.99) for kind, values in timings.items()}
    searches = [v for kind, values in timings.items() if kind != "get-by-id" for v in values]
    p99["search"] = pct(searches, 0.99)
    for kind, values in [*timings.items(), ("search (all)", searches)]:
        p50, p99_ = pct(values, 0.5), pct(values, 0.99)
        rows.append(f"| {size:>7,} | {path:<10} | {kind:<12} | {p50:6.2f} | {p99_:6.2f} | {len(values):5} |")
    return p99


async def _size_buffers(cluster: PostgresCluster) -> None:
    """A server sized for its data: the default 128 MB of shared buffers is smaller than 100k items."""
    engine = make_engine(cluster.url("postgres"))
    async with engine.connect() as conn:
        await conn.execute(sa.text("COMMIT"))
        await conn.execute(sa.text(f"ALTER SYSTEM SET shared_buffers = '{SHARED_BUFFERS}'"))
    await engine.dispose()
    await asyncio.to_thread(cluster.restart)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rate", type=float, default=200.0, help="HTTP requests/s (open loop)")
    parser.add_argument("--seconds", type=float, default=10.0, help="HTTP seconds per query kind")
    parser.add_argument("--count", type=int, default=1000, help="in-process calls per kind")
    args = parser.parse_args()
    external = ExternalPostgres.from_env()
    cluster: PostgresCluster | ExternalPostgres = external or start_postgres()
    if isinstance(cluster, PostgresCluster):
        await _size_buffers(cluster)
    engine = make_engine(cluster.url("postgres"))
    async with engine.connect() as conn:
        server = (await conn.execute(sa.text("SELECT version(), current_setting('shared_buffers')"))).one()
    await engine.dispose()
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"catalog-search-bench-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True)
    rows = ["| items | path | queries | p50 ms | p99 ms | n |", "|---|---|---|---|---|---|"]
    goals: list[tuple[str, float, float]] = []
    print(
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, Python {platform.python_version()}, "
        f"jieba {dist_version('jieba')}, pypinyin {dist_version('pypinyin')}, asyncpg {dist_version('asyncpg')}, "
        f"{server[0].split(' on ')[0]}, shared_buffers {server[1]}"
    )
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            name = f"bench_search_{size}_{uuid.uuid4().hex[:6]}"
            url = cluster.create_database(name)
            await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url)
            started = time.monotonic()
            engine = make_engine(url)
            await load_wucheng(make_sessionmaker(engine))
            await engine.dispose()
            loaded = time.monotonic() - started
            await grow(url, size)
            grown = time.monotonic() - started - loaded
            print(
                f"{size:,} items: the shipped 376 published in {loaded:.1f} s, the rest added in {grown:.1f} s"
            )
            local = report(size, "in-process", await in_process(url, args.count), rows)
            remote = report(size, "HTTP", await through_http(url, args.rate, args.seconds, workdir), rows)
            limit = 5.0 if size <= 10_000 else 10.0
            goals += [
                (f"{size:,}: HTTP search p99 (ms) <= {limit:g}", remote["search"], limit),
                (f"{size:,}: HTTP 2-char p99 / 4-char p99 <= 2", remote["2-char"] / remote["4-char"], 2.0),
                (
                    f"{size:,}: HTTP search p99 / get-by-id p99 <= 1.5",
                    remote["search"] / remote["get-by-id"],
                    1.5,
                ),
                (
                    f"{size:,}: in-process search p99 / get-by-id p99",
                    local["search"] / local["get-by-id"],
                    float("inf"),
                ),
            ]
            cluster.drop_database(name)
    finally:
        cluster.close()
    print("\n".join(rows))
    print("\n| goal | value | result |\n|---|---|---|")
    for goal, value, limit in goals:
        verdict = "info" if limit == float("inf") else ("PASS" if value <= limit else "FAIL")
        print(f"| {goal} | {value:.2f} | {verdict} |")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (other processes share the cores)")
    shutil.rmtree(workdir, ignore_errors=True)  # only the service's logs; kept when a run fails


if __name__ == "__main__":
    asyncio.run(main())
