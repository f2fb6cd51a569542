"""bench/bus: percentiles and CPU accounting of the benchmark's processes from /proc."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# --- statistics -----------------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def median(values: Sequence[float]) -> float:
    return pct(values, 50)


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.2f} ms"


def p50_p99(values: Sequence[float]) -> str:
    return f"{ms(pct(values, 50))} / {ms(pct(values, 99))}"


# --- CPU accounting from /proc --------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, float, str]]:
    """pid -> (ppid, CPU seconds used so far, command name) for every process we can read."""
    table: dict[int, tuple[int, float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, _, tail = (entry / "stat").read_text().rpartition(")")
            fields = tail.split()
            table[int(entry.name)] = (
                int(fields[1]),
                (int(fields[11]) + int(fields[12])) / _TICK,
                head.partition("(")[2],
            )
        except (OSError, IndexError, ValueError):
            continue
    return table


def _machine_jiffies() -> dict[str, int]:
    """Jiffies over all CPUs since boot: busy (user+nice+system+irq+softirq), softirq, steal, total."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    v += [0] * (8 - len(v))
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return {
        "busy": user + nice + system + irq + softirq,
        "softirq": softirq,
        "steal": steal,
        "total": user + nice + system + idle + iowait + irq + softirq + steal,
    }


@dataclass(frozen=True)
class Watched:
    """A process whose CPU is sampled; with `tree`, its descendants (PostgreSQL backends) count too."""

    name: str
    pid: int
    tree: bool = False


@dataclass
class CpuSnapshot:
    at: float
    procs: dict[str, float]  # CPU seconds of each watched process (tree)
    kernel: dict[int, float]  # CPU seconds of kernel threads (kthreadd's children: I/O, journaling)
    foreign: dict[int, tuple[float, str]]  # CPU seconds and name of every other process, by pid
    jiffies: dict[str, int]


def _descendants(table: Mapping[int, tuple[int, float, str]], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, ()))
    return found


def cpu_snapshot(watched: Sequence[Watched]) -> CpuSnapshot:
    table = _proc_table()
    procs: dict[str, float] = {}
    ours: set[int] = set()
    for w in watched:
        pids = _descendants(table, w.pid) if w.tree else {w.pid}
        ours |= pids
        procs[w.name] = sum(table[p][1] for p in pids if p in table)
    kernel = {p: cpu for p, (ppid, cpu, _) in table.items() if p == 2 or ppid == 2}  # kthreadd + children
    foreign = {p: (cpu, name) for p, (_, cpu, name) in table.items() if p not in ours and p not in kernel}
    return CpuSnapshot(
        at=time.monotonic(),
        procs=procs,
        kernel=kernel,
        foreign=foreign,
        jiffies=_machine_jiffies(),
    )


def cpu_report(before: CpuSnapshot, after: CpuSnapshot, events: int) -> tuple[str, float]:
    """A one-line CPU summary, and the share of the machine used by other processes (in %)."""
    wall = after.at - before.at
    cores = os.cpu_count() or 1
    parts = []
    ours = 0.0
    for name, used in after.procs.items():
        spent = used - before.procs.get(name, 0.0)
        ours += spent
        parts.append(f"{name} {spent / wall * 100:.0f}% ({spent / max(events, 1) * 1e6:.0f} µs/ev)")
    # A process started during the phase counts whole; one that ended during it is "unattributed".
    by_name: dict[str, float] = {}
    for pid, (cpu, name) in after.foreign.items():
        by_name[name] = by_name.get(name, 0.0) + cpu - before.foreign.get(pid, (0.0, ""))[0]
    foreign = sum(by_name.values())
    top = sorted(by_name.items(), key=lambda item: -item[1])[:3]
    named = ", ".join(f"{name} {cpu / wall * 100:.0f}%" for name, cpu in top if cpu / wall > 0.02)
    kernel = sum(cpu - before.kernel.get(pid, 0.0) for pid, cpu in after.kernel.items())
    delta = {k: after.jiffies[k] - before.jiffies[k] for k in after.jiffies}
    share = {k: v / max(delta["total"], 1) * 100 for k, v in delta.items()}

    def machine_share(seconds: float) -> float:
        return seconds / (wall * cores) * 100

    ours_share, kernel_share = machine_share(ours), machine_share(kernel)
    foreign_share = machine_share(foreign)
    rest = max(0.0, share["busy"] - ours_share - kernel_share - foreign_share)
    machine = (
        f"machine {share['busy']:.0f}% busy of {cores} cores: benchmark {ours_share:.0f}%, kernel threads "
        f"{kernel_share:.0f}%, other processes {foreign_share:.0f}%{f' ({named})' if named else ''}, "
        f"unattributed {rest:.0f}% "
        f"(softirq {share['softirq']:.0f}%, steal {share['steal']:.0f}%)"
    )
    # Unattributed time beyond softirq is mostly short-lived processes that came and went.
    outside = foreign_share + max(0.0, rest - share["softirq"])
    return f"{machine}; per process, % of one core: " + ", ".join(parts), outside
