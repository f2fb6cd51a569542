"""The goal rows a benchmark hands to `make bench`'s report: bench/results/<name>.json, one file per benchmark.

A benchmark calls `write("platform", rows, machine=...)` once at the end; `bench/report.py` reads the
file back (a benchmark that writes none is read from its printed PASS/FAIL lines instead):

    from bench._results import Row, write
    write("hall", [Row("call-next p99 / get p99", "1.42", "<= 2.0", ratio <= 2.0)])
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Row:
    metric: str
    value: str  # as printed, with its unit: "41.2 ms", "0.93x", "1,204 req/s"
    goal: str = ""  # "<= 50 ms"; empty for a figure shown for information
    ok: bool | None = None  # None: information only, no verdict

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "FAIL")


@dataclass(frozen=True)
class Results:
    bench: str
    rows: list[Row]
    machine: str = ""
    notes: list[str] | None = None
    finished_at: float = 0.0  # time.time()

    @property
    def passed(self) -> bool:
        return all(row.ok is not False for row in self.rows)


def path_of(bench: str) -> Path:
    return RESULTS_DIR / f"{bench}.json"


def write(bench: str, rows: Sequence[Row], *, machine: str = "", notes: Sequence[str] = ()) -> Path:
    """Replace bench/results/<bench>.json (written whole, then renamed: a reader never sees half)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    target = path_of(bench)
    payload: dict[str, Any] = {
        "bench": bench,
        "finished_at": time.time(),
        "machine": machine,
        "rows": [asdict(row) for row in rows],
        "notes": list(notes),
    }
    partial = target.with_suffix(f".json.{os.getpid()}")
    partial.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    partial.replace(target)
    return target


def read(bench: str) -> Results | None:
    """The last results `bench` wrote, or None."""
    try:
        payload = json.loads(path_of(bench).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Results(
        bench=payload["bench"],
        rows=[Row(**row) for row in payload["rows"]],
        machine=payload.get("machine", ""),
        notes=payload.get("notes") or [],
        finished_at=float(payload.get("finished_at", 0.0)),
    )
