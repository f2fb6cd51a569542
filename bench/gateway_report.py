"""The gateway benchmark's output: one line per run, the information table, the goals with PASS/FAIL."""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass

from bench.gateway_procs import OUTSIDE_LOAD_WARN, SEEN_OTHERS, Usage
from bench.gateway_runs import (
    GOAL_CPU_S,
    GOAL_OVERHEAD_VS_NGINX,
    GOAL_P99_RATIO,
    GOAL_RATE,
    GOAL_THROUGHPUT_RATIO,
    PATHS,
    WRK_CONNECTIONS,
    FixedResult,
    Sizes,
    WrkResult,
)
from bench.loadgen import Result

# --- reporting ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1e3:.2f} ms"


def signed_ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1e3:+.2f} ms"


def us(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1e6:.0f} µs"


def median(values: list[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def per_request(usage: Usage, name: str, requests: int) -> float:
    return usage.cpu.get(name, math.nan) / requests if requests else math.nan


def _cpu_columns(usage: Usage, requests: int) -> str:
    """CPU per request of each server process that did measurable work."""
    return "  ".join(
        f"{proc} {us(per_request(usage, proc, requests))}"
        for proc in ("gateway", "service", "nginx")
        if usage.cpu.get(proc, 0.0) > 0.005
    )


def describe_fixed(name: str, fixed: FixedResult) -> str:
    r = fixed.result
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(r.statuses.items()))
    cpu = _cpu_columns(fixed.usage, r.scheduled)
    return (
        f"{name:8s} p50 {ms(r.percentile(0.5))}  p99 {ms(r.percentile(0.99))}  "
        f"p99.9 {ms(r.percentile(0.999))}  achieved {r.achieved_rate:,.0f}/s  send lag p99 "
        f"{ms(r.lag_percentile(0.99))}  statuses {{{statuses}}}  CPU/req: {cpu}  "
        f"outside {fixed.usage.outside_pct:.0f}%"
    )


def describe_wrk(name: str, w: WrkResult) -> str:
    cpu = _cpu_columns(w.usage, w.requests)
    return (
        f"{name:8s} {w.rps:,.0f} req/s  p50 {ms(w.p50)}  p99 {ms(w.p99)}  non-2xx {w.non_2xx}  "
        f"socket errors {w.socket_errors}  CPU/req: {cpu}  outside {w.usage.outside_pct:.0f}%"
    )


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    goal: str
    ok: bool | None  # None: informative


def print_table(rows: list[Row]) -> None:
    widths = [max(len(getattr(r, col)) for r in rows) for col in ("metric", "value", "goal")]
    header = ("metric", "value", "goal", "result")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=False)]
    line = f"{{:{widths[0]}}} | {{:{widths[1]}}} | {{:{widths[2]}}} | {{}}"
    print(line.format(*header))
    print("-" * (sum(widths) + 16))
    for r in rows:
        result = "" if r.ok is None else "PASS" if r.ok else "FAIL"
        print(line.format(r.metric, r.value, r.goal, result))


def report(
    machine: str,
    sizes: Sizes,
    fixed_rate_used: float,
    rate_note: str,
    probes: list[str],
    wrk: dict[str, list[WrkResult]],
    fixed: dict[str, list[FixedResult]],
    self_test: list[tuple[str, Result]],
) -> int:
    rps = {n: median([w.rps for w in wrk[n]]) for n in PATHS}
    wrk_p50 = {n: median([w.p50 for w in wrk[n]]) for n in PATHS}
    wrk_p99 = {n: median([w.p99 for w in wrk[n]]) for n in PATHS}

    def pct(name: str, q: float) -> float:
        return median([f.result.percentile(q) for f in fixed[name]])

    p50 = {n: pct(n, 0.5) for n in PATHS}
    p99 = {n: pct(n, 0.99) for n in PATHS}
    p999 = {n: pct(n, 0.999) for n in PATHS}
    achieved = {n: median([f.result.achieved_rate for f in fixed[n]]) for n in PATHS}
    cpu_fixed = {
        (path, proc): median([per_request(f.usage, proc, f.result.scheduled) for f in fixed[path]])
        for path in PATHS
        for proc in ("gateway", "service", "nginx", "postgres", "bench")
    }
    cpu_wrk = {
        (path, proc): median([per_request(w.usage, proc, w.requests) for w in wrk[path]])
        for path in PATHS
        for proc in ("gateway", "service", "nginx", "postgres", "bench")
    }
    errors = {n: sum(w.errors for w in wrk[n]) + sum(f.result.errors for f in fixed[n]) for n in PATHS}
    rate = f"@{fixed_rate_used:,.0f} req/s"

    info = [
        Row(f"{n} req/s (wrk -c{WRK_CONNECTIONS}, median of {sizes.wrk_rounds})", f"{rps[n]:,.0f}", "", None)
        for n in PATHS
    ]
    info += [
        Row(f"{n} p50 / p99 (wrk, closed loop)", f"{ms(wrk_p50[n])} / {ms(wrk_p99[n])}", "", None)
        for n in PATHS
    ]
    info += [
        Row(
            f"{n} p50 / p99 / p99.9 {rate} (achieved)",
            f"{ms(p50[n])} / {ms(p99[n])} / {ms(p999[n])} ({achieved[n]:,.0f}/s)",
            "",
            None,
        )
        for n in PATHS
    ]
    info += [
        Row("nginx / direct throughput", f"{rps['nginx'] / rps['direct']:.2f}", "", None),
        Row(f"service CPU/req direct {rate}", us(cpu_fixed[("direct", "service")]), "", None),
        Row(f"service CPU/req via gateway {rate}", us(cpu_fixed[("gateway", "service")]), "", None),
        Row(f"nginx CPU/req {rate}", us(cpu_fixed[("nginx", "nginx")]), "", None),
        Row("gateway CPU/req, saturated (wrk)", us(cpu_wrk[("gateway", "gateway")]), "", None),
        Row("service CPU/req, saturated direct (wrk)", us(cpu_wrk[("direct", "service")]), "", None),
        Row("nginx CPU/req, saturated (wrk)", us(cpu_wrk[("nginx", "nginx")]), "", None),
        Row(f"load generator CPU/req {rate}", us(cpu_fixed[("gateway", "bench")]), "", None),
    ]
    if cpu_fixed[("direct", "postgres")] > 0:
        info.append(Row(f"PostgreSQL CPU/req {rate}", us(cpu_fixed[("direct", "postgres")]), "", None))
    # The goals use the medians of all rounds; this shows them over the quiet rounds alone, because a
    # round disturbed by other work can move one path's p99 by milliseconds.
    quiet = {
        n: [f.result.percentile(0.99) for f in fixed[n] if f.usage.outside_pct <= OUTSIDE_LOAD_WARN]
        for n in PATHS
    }
    if all(quiet.values()):
        q99 = {n: median(quiet[n]) for n in PATHS}
        info.append(
            Row(
                f"p99 direct / gateway / nginx {rate}, quiet rounds only (outside <= {OUTSIDE_LOAD_WARN:.0f}%)",
                f"{ms(q99['direct'])} / {ms(q99['gateway'])} / {ms(q99['nginx'])} (rounds: "
                f"{', '.join(str(len(quiet[n])) for n in PATHS)}); gateway/direct "
                f"{q99['gateway'] / q99['direct']:.2f}, overhead {signed_ms(q99['gateway'] - q99['direct'])} "
                f"vs nginx {signed_ms(q99['nginx'] - q99['direct'])}",
                "",
                None,
            )
        )
    else:
        info.append(Row(f"p99 {rate}, quiet rounds only", "n/a: some path has no quiet round", "", None))
    info += [Row(f"non-200 answers, {n}", str(errors[n]), "0", errors[n] == 0) for n in PATHS]

    throughput = rps["gateway"] / rps["direct"]
    p99_ratio = p99["gateway"] / p99["direct"]
    cpu = cpu_fixed[("gateway", "gateway")]
    gw_over = p99["gateway"] - p99["direct"]
    ng_over = p99["nginx"] - p99["direct"]
    over_ratio = f"{gw_over / ng_over:.1f}x" if ng_over > 0 else "nginx adds nothing measurable"
    goals = [
        Row(
            "gateway / direct throughput (wrk, medians)",
            f"{throughput:.2f} ({rps['gateway']:,.0f} / {rps['direct']:,.0f} req/s)",
            f">= {GOAL_THROUGHPUT_RATIO}",
            throughput >= GOAL_THROUGHPUT_RATIO,
        ),
        Row(
            f"gateway p99 / direct p99 {rate}",
            f"{p99_ratio:.2f} ({ms(p99['gateway'])} / {ms(p99['direct'])})",
            f"<= {GOAL_P99_RATIO} (at {GOAL_RATE:,.0f}/s)",
            p99_ratio <= GOAL_P99_RATIO,
        ),
        Row(
            f"gateway CPU per request {rate}",
            us(cpu),
            f"<= {us(GOAL_CPU_S)}",
            cpu <= GOAL_CPU_S,
        ),
        Row(
            f"gateway p99 overhead vs nginx's {rate}",
            f"{signed_ms(gw_over)} vs {signed_ms(ng_over)} ({over_ratio})",
            f"<= {GOAL_OVERHEAD_VS_NGINX:g}x nginx's",
            gw_over <= GOAL_OVERHEAD_VS_NGINX * ng_over,
        ),
    ]
    print()
    print(machine)
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name, r in self_test:
        if r.rate:
            print(
                f"load generator alone ({name}, nginx static): p50 {ms(r.percentile(0.5))}, p99 "
                f"{ms(r.percentile(0.99))}, p99.9 {ms(r.percentile(0.999))}, "
                f"{us(r.cpu_per_request_s)} CPU/req"
            )
        else:
            print(f"load generator alone ({name}, nginx static): {r.achieved_rate:,.0f} req/s")
    for line in probes:
        print(f"rate probe: {line}")
    print()
    print_table(info)
    print()
    print_table(goals)
    print()
    notes = []
    if rate_note:
        notes.append(f"NOTE: {rate_note}.")
    if fixed_rate_used != GOAL_RATE:
        notes.append(
            f"NOTE: the latency and CPU goals are defined at {GOAL_RATE:,.0f} req/s; this run measured {rate}."
        )
    for n in PATHS:
        if achieved[n] < 0.98 * fixed_rate_used:
            notes.append(
                f"NOTE: {n} achieved only {achieved[n]:,.0f} of {fixed_rate_used:,.0f} req/s: saturated, "
                "its latencies are the queue's, not the path's."
            )
    if SEEN_OTHERS:
        notes.append(f"WARNING: another benchmark ran during the measurements (pids {sorted(SEEN_OTHERS)}).")
    suspect = [
        f"{kind} {n} round {i + 1} ({u.outside_pct:.0f}%)"
        for kind, runs in (("wrk", {n: [w.usage for w in wrk[n]] for n in PATHS}),
                           ("fixed", {n: [f.usage for f in fixed[n]] for n in PATHS}))
        for n in PATHS
        for i, u in enumerate(runs[n])
        if u.outside_pct > OUTSIDE_LOAD_WARN
    ]  # fmt: skip
    if suspect:
        notes.append(
            "WARNING: work outside the benchmark took over 10% of the machine during: " + ", ".join(suspect)
        )
    for note in notes:
        print(note)
    invalid = any(errors.values())
    failed = [g for g in goals if not g.ok]
    if invalid:
        print("INVALID RUN: some answers were not 200 (see the rows above)")
    print(f"{len(failed)} goal(s) missed" if failed else "all goals met")
    return 1 if invalid or failed else 0
