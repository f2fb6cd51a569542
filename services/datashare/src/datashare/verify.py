"""`python -m datashare.verify`: check the access log's hash chain; exit 1 at the first broken link."""

from __future__ import annotations

import argparse
import asyncio
import json
import os

from datashare.accesslog.chain import verify
from servicekit.db import make_engine, make_sessionmaker


async def run(database_url: str) -> dict[str, object]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            verdict = await verify(session)
    finally:
        await engine.dispose()
    return {
        "ok": verdict.ok,
        "checked": verdict.checked,
        "head_seq": verdict.head_seq,
        "head_hash": verdict.head_hash.hex(),
        "first_broken_seq": verdict.broken_seq,
        "reason": verdict.reason,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("DATASHARE_DATABASE_URL"))
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATASHARE_DATABASE_URL or pass --database-url")
    report = asyncio.run(run(args.database_url))
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
