"""`make bench`: run every benchmark, print one table of their figures, goals and verdicts, write bench/REPORT.md.

    .venv/bin/python bench/report.py                  # every benchmark of $BENCHES (or the default list)
    .venv/bin/python bench/report.py bus hall         # just these
    .venv/bin/python bench/report.py --quick          # --quick to each benchmark that has it
    .venv/bin/python bench/report.py --no-run         # the table from the last runs' results only

Benchmarks run one after another (they share two cores), their output streamed and kept in
bench/results/<name>.log. A benchmark's rows are the bench/results/<name>.json it wrote during this
run (bench/_results.py); one that writes none is read from its printed PASS/FAIL lines. A benchmark
that exits non-zero without a failed row gets one ("exit code N"). The exit code is 1 when any row
failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# `python bench/report.py` puts bench/ first on sys.path; the repository root makes `bench.*` importable.
if sys.path and Path(sys.path[0]).resolve() == REPO / "bench":
    sys.path[0] = str(REPO)

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from bench._results import RESULTS_DIR, Row, read  # noqa: E402

DEFAULT_BENCHES = "bus gateway catalog_search datashare hall intake backoffice notify whole_platform"
REPORT = REPO / "bench" / "REPORT.md"
_VERDICT = re.compile(r"(?<![\w-])(PASS|FAIL)(?![\w-])")
_CELLS = re.compile(r"\s{2,}|\s*\|\s*")


def _first_line(path: str, prefix: str) -> str:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return "unknown"
    found = next((line for line in lines if line.startswith(prefix)), "")
    return found.split(":", 1)[-1].split("=", 1)[-1].strip().strip('"') or "unknown"


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    return ((done.stdout or done.stderr).strip().splitlines() or ["unknown"])[0]


def describe() -> list[str]:
    """The machine and the software versions the figures come from."""
    from localinfra.kafka import pinned_kafka_version
    from localinfra.postgres import find_postgres_bindir, postgres_version

    memory_kib = _first_line("/proc/meminfo", "MemTotal").split()[0]
    bindir = find_postgres_bindir()
    return [
        f"CPU: {_first_line('/proc/cpuinfo', 'model name')}, {os.cpu_count()} logical cores",
        f"memory: {int(memory_kib) / 1024 / 1024:.1f} GiB" if memory_kib.isdigit() else "memory: unknown",
        f"OS: {_first_line('/etc/os-release', 'PRETTY_NAME')}, Linux {platform.release()}",
        f"load average at the start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        f"Python {platform.python_version()}; {postgres_version(bindir) if bindir else 'PostgreSQL not found'}; "
        f"Apache Kafka {pinned_kafka_version()} on {_version(['java', '-version'])}",
    ]


@dataclass(frozen=True)
class Outcome:
    bench: str
    rows: list[Row]
    exit_code: int | None  # None: not run now (--no-run)
    seconds: float
    source: str  # "results", "printed lines" or "missing"
    notes: list[str]


def parse_printed(text: str) -> list[Row]:
    """Rows from a benchmark's own PASS/FAIL lines: metric, value and goal split at wide gaps or '|'."""
    rows = []
    for line in text.splitlines():
        found = _VERDICT.search(line)
        if found is None or line.lstrip().startswith("["):  # "[12:00:01] …" lines are progress logs
            continue
        cells = [c for c in _CELLS.split(_VERDICT.sub(" ", line, count=1).strip(" |")) if c.strip()]
        if not cells:
            continue
        metric = cells[0].rstrip(":")
        value = cells[1] if len(cells) > 1 else ""
        rows.append(Row(metric, value, " ".join(cells[2:]), found.group(1) == "PASS"))
    return rows


def run_one(bench: str, quick: bool) -> tuple[int, float]:
    """Run bench/<bench>.py with its output streamed to the terminal and kept in results/<bench>.log."""
    script = REPO / "bench" / f"{bench}.py"
    if not script.exists():
        raise SystemExit(f"no such benchmark: {script}")
    args = [sys.executable, str(script)]
    if quick and '"--quick"' in script.read_text(encoding="utf-8"):
        args.append("--quick")
    RESULTS_DIR.mkdir(exist_ok=True)
    print(f"== bench/{bench}.py", flush=True)
    started = time.monotonic()
    with (RESULTS_DIR / f"{bench}.log").open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            log.write(line)
        code = process.wait()
    return code, time.monotonic() - started


def collect(bench: str, since: float | None, code: int | None, seconds: float) -> Outcome:
    results = read(bench)
    if results is not None and (since is None or results.finished_at >= since):
        rows, source, notes = list(results.rows), "results", list(results.notes or [])
    else:
        log = RESULTS_DIR / f"{bench}.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        rows, source, notes = parse_printed(text), ("printed lines" if text else "missing"), []
    if code not in (None, 0) and all(r.ok is not False for r in rows):
        rows.append(Row("exit code", str(code), "0", False))
    if not rows:
        rows.append(Row("no result rows", "-", "", False))
    return Outcome(bench, rows, code, seconds, source, notes)


def table(outcomes: list[Outcome]) -> list[str]:
    header = ("benchmark", "metric", "value", "goal", "result")
    cells = [header] + [(o.bench, r.metric, r.value, r.goal, r.verdict) for o in outcomes for r in o.rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return [lines[0], "-" * len(lines[0]), *lines[1:]]


def markdown(outcomes: list[Outcome], machine: list[str], started: str) -> str:
    failed = [o.bench for o in outcomes if any(r.ok is False for r in o.rows)]
    out = [
        "# Performance report",
        "",
        f"Generated by `make bench` (bench/report.py) on {started}. "
        + (
            f"**{len(failed)} benchmark(s) missed a goal: {', '.join(failed)}.**"
            if failed
            else "Every goal met."
        ),
        "",
        "## Machine",
        "",
        *[f"- {line}" for line in machine],
        "",
        "## Results",
        "",
        "| benchmark | metric | value | goal | result |",
        "|---|---|---|---|---|",
    ]
    for o in outcomes:
        for r in o.rows:
            verdict = f"**{r.verdict}**" if r.ok is False else r.verdict
            out.append(f"| {o.bench} | {r.metric} | {r.value} | {r.goal} | {verdict} |".replace("\n", " "))
    out += ["", "## Runs", ""]
    for o in outcomes:
        ran = "not run now" if o.exit_code is None else f"exit {o.exit_code}, {o.seconds / 60:.1f} min"
        out.append(
            f"- `bench/{o.bench}.py`: {ran}; rows from {o.source}" + "".join(f"; {n}" for n in o.notes)
        )
    out += [
        "",
        "Figures are from two shared cores; see bench/README.md for what each benchmark measures.",
        "",
    ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("benches", nargs="*", help="benchmark names (default: $BENCHES or all)")
    parser.add_argument("--quick", action="store_true", help="pass --quick to the benchmarks that have it")
    parser.add_argument("--no-run", action="store_true", help="report the last results without running")
    args = parser.parse_args()
    names = args.benches or os.environ.get("BENCHES", DEFAULT_BENCHES).split()
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    machine = describe()
    outcomes = []
    for bench in names:
        if args.no_run:
            outcomes.append(collect(bench, None, None, 0.0))
            continue
        since = time.time()
        code, seconds = run_one(bench, args.quick)
        outcomes.append(collect(bench, since, code, seconds))
    print()
    print("\n".join(machine))
    print()
    print("\n".join(table(outcomes)))
    REPORT.write_text(markdown(outcomes, machine, started), encoding="utf-8")
    print(f"\nwritten to {REPORT.relative_to(REPO)}")
    return 1 if any(r.ok is False for o in outcomes for r in o.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
