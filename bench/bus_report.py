"""bench/bus: the goal table and the diagnostic lines."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.bus_common import GOAL_E2E_P99_S, GOAL_RATE, GOAL_THROUGHPUT_RATIO, GOAL_WRITE_RATIO, Phase
from bench.bus_runs import BusRun, RawRun, WriteRun
from bench.bus_stats import median, ms, p50_p99, pct

# --- report -------------------------------------------------------------------------------------


@dataclass
class Row:
    metric: str
    value: str
    goal: str = ""
    ok: bool | None = None


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


def print_table(rows: Sequence[Row]) -> None:
    header = Row("metric", "value", "goal")
    widths = [max(len(r.metric) for r in [header, *rows]), max(len(r.value) for r in [header, *rows])]
    goal_width = max(len(r.goal) for r in [header, *rows])
    line = f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * goal_width}  ----"
    print(f"{header.metric:<{widths[0]}}  {header.value:>{widths[1]}}  {header.goal:<{goal_width}}  result")
    print(line)
    for r in rows:
        print(f"{r.metric:<{widths[0]}}  {r.value:>{widths[1]}}  {r.goal:<{goal_width}}  {verdict(r.ok)}")


def span_rate(n: int, start: float, end: float) -> float:
    return n / (end - start) if end > start else math.nan


def lost(phase: Phase, seen: Mapping[int, object]) -> int:
    return sum(1 for seq in range(phase.first, phase.end) if seq not in seen)


def raw_rows(raw: RawRun, rate_s: float) -> tuple[list[Row], list[str], float]:
    rows: list[Row] = []
    notes: list[str] = []
    max_rate = math.nan
    for phase in (raw.fixed, raw.maximum):
        seqs = range(phase.first, phase.end)
        got = [raw.received[s] for s in seqs if s in raw.received]
        e2e = [raw.received[s] - phase.intended[s - phase.first] for s in seqs if s in raw.received]
        missing = lost(phase, raw.received)
        rate = span_rate(len(got), min(phase.started), max(got)) if got else math.nan
        if phase is raw.fixed:
            rows.append(Row(f"(a) raw @{rate_s:.0f}/s: received events/s", f"{rate:,.0f}"))
            rows.append(Row(f"(a) raw @{rate_s:.0f}/s: e2e p50 / p99 (from intended send)", p50_p99(e2e)))
            lag = [s - i for s, i in zip(phase.started, phase.intended, strict=True)]
            ack = [d - s for s, d in zip(phase.started, phase.done, strict=True)]
            notes.append(
                f"(a) @{rate_s:.0f}/s: generator lag p99 {ms(pct(lag, 99))}; send->ack {p50_p99(ack)}"
            )
        else:
            max_rate = rate
            rows.append(Row("(a) raw max: events/s (first send -> last receive)", f"{rate:,.0f}"))
            rows.append(Row("(a) raw max: latency p50 / p99 (closed loop, from send)", p50_p99(e2e)))
            acks = [d for d in phase.done if not math.isnan(d)]
            ack_rate = span_rate(len(acks), min(phase.started), max(acks)) if acks else math.nan
            notes.append(f"(a) max: producer acked {ack_rate:,.0f} events/s")
        if missing or not phase.complete:
            rows.append(Row(f"(a) {phase.name}: events not received", f"{missing}/{phase.n}", "0", False))
        notes.append(f"(a) {phase.name} CPU: {phase.cpu}")
    notes.append(
        f"(a) consumer: {len(raw.batches)} batches, mean {_mean(raw.batches):.1f} records; "
        f"offset commit {p50_p99(raw.commits)}"
    )
    return rows, notes, max_rate


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def bus_rows(bus: BusRun, raw_max_rate: float, rate_s: float) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    fixed, maximum = bus.fixed, bus.maximum

    # fixed rate: latency and where it goes
    commit_e2e: list[float] = []
    intended_e2e: list[float] = []
    stages: dict[str, list[float]] = {
        "business write (intended -> commit)": [],
        "commit -> relay send": [],
        "relay send -> Kafka ack": [],
        "relay send -> consumer poll": [],
        "poll -> its transaction starts": [],
        "consumer transaction (inbox, handler, commit)": [],
    }
    got: list[float] = []
    for k in range(fixed.n):
        seq = fixed.first + k
        intended, committed = fixed.intended[k], fixed.done[k]
        stages["business write (intended -> commit)"].append(committed - intended)
        if seq in bus.relay_sent:
            send, ack = bus.relay_sent[seq]
            stages["commit -> relay send"].append(send - committed)
            stages["relay send -> Kafka ack"].append(ack - send)
        if seq in bus.handled:
            polled, started, done = bus.handled[seq]
            got.append(done)
            commit_e2e.append(done - committed)
            intended_e2e.append(done - intended)
            stages["poll -> its transaction starts"].append(started - polled)
            stages["consumer transaction (inbox, handler, commit)"].append(done - started)
            if seq in bus.relay_sent:
                stages["relay send -> consumer poll"].append(polled - bus.relay_sent[seq][0])
    rate = span_rate(len(got), min(fixed.started), max(got)) if got else math.nan
    p99_commit, p99_intended = pct(commit_e2e, 99), pct(intended_e2e, 99)
    missing = lost(fixed, bus.handled)
    committed_at = [c for c in fixed.done if not math.isnan(c)]
    write_rate = span_rate(len(committed_at), min(fixed.started), max(committed_at))
    rows.append(
        Row(f"(b) platform @{rate_s:.0f}/s: business commits/s (offered {rate_s:.0f})", f"{write_rate:,.0f}")
    )
    rows.append(Row(f"(b) platform @{rate_s:.0f}/s: handled events/s", f"{rate:,.0f}"))
    at_goal_rate = rate_s == GOAL_RATE
    rows.append(
        Row(f"(b) platform @{rate_s:.0f}/s: e2e p50 (commit -> handler commit)", ms(pct(commit_e2e, 50)))
    )
    rows.append(
        Row(
            f"(b) platform @{rate_s:.0f}/s: e2e p99 (commit -> handler commit)",
            ms(p99_commit),
            f"<= {GOAL_E2E_P99_S * 1000:.0f} ms" + ("" if at_goal_rate else f" at {GOAL_RATE:.0f}/s: n/a"),
            p99_commit <= GOAL_E2E_P99_S and not missing and fixed.complete if at_goal_rate else None,
        )
    )
    rows.append(
        Row(
            f"(b) platform @{rate_s:.0f}/s: e2e p50 / p99 (intended -> handler commit)",
            p50_p99(intended_e2e),
            "info: CO-corrected, incl. the write",
            None,
        )
    )
    if missing or not fixed.complete:
        rows.append(Row(f"(b) {fixed.name}: events not handled", f"{missing}/{fixed.n}", "0", False))
    notes.append(f"(b) @{rate_s:.0f}/s latency by stage, p50 / p99:")
    notes.extend(f"      {name:<46} {p50_p99(values)}" for name, values in stages.items())
    notes.append(
        f"      ({p99_intended * 1000:.2f} ms p99 from the intended time includes the business write)"
    )
    notes.append(f"(b) {fixed.name} CPU: {fixed.cpu}")

    # maximum rate: throughput of the whole path and of each stage
    seqs = range(maximum.first, maximum.end)
    start = min(maximum.started)
    done_at = [bus.handled[s][2] for s in seqs if s in bus.handled]
    acked_at = [bus.relay_sent[s][1] for s in seqs if s in bus.relay_sent]
    commits = [c for c in maximum.done if not math.isnan(c)]
    e2e = [bus.handled[s][2] - maximum.done[s - maximum.first] for s in seqs if s in bus.handled]
    throughput = span_rate(len(done_at), start, max(done_at)) if done_at else math.nan
    ratio = throughput / raw_max_rate if raw_max_rate > 0 else math.nan
    missing = lost(maximum, bus.handled)
    rows.append(Row("(b) platform max: events/s (first write -> last handled)", f"{throughput:,.0f}"))
    rows.append(Row("(b) platform max: latency p50 / p99 (closed loop, from commit)", p50_p99(e2e)))
    rows.append(
        Row(
            "(b) / (a) maximum throughput",
            f"{ratio:.2f}x",
            f">= {GOAL_THROUGHPUT_RATIO}x",
            ratio >= GOAL_THROUGHPUT_RATIO and not missing and maximum.complete,
        )
    )
    if missing or not maximum.complete:
        rows.append(Row(f"(b) {maximum.name}: events not handled", f"{missing}/{maximum.n}", "0", False))
    notes.append(
        f"(b) max by stage, cumulative events/s from the first write: business commits "
        f"{span_rate(len(commits), start, max(commits)) if commits else math.nan:,.0f}; relay acked "
        f"{span_rate(len(acked_at), start, max(acked_at)) if acked_at else math.nan:,.0f}; handled "
        f"{throughput:,.0f}"
    )
    notes.append(f"(b) {maximum.name} CPU: {maximum.cpu}")
    sizes = [n for n, _ in bus.relay_rounds]
    durations = [d for _, d in bus.relay_rounds]
    notes.append(
        f"(b) relay: {len(sizes)} rounds with rows (+{bus.relay_empty_rounds} empty), rows/round mean "
        f"{_mean(sizes):.1f} max {max(sizes, default=0)}; round time {p50_p99(durations)}"
    )
    notes.append(
        f"(b) consumer: {len(bus.consumer_batches)} polls, mean {_mean(bus.consumer_batches):.1f} records; "
        f"offset commit {p50_p99(bus.consumer_commits)}; duplicates {bus.duplicates}, "
        f"dead-lettered {bus.dead_lettered}, batches redone record by record {bus.fallbacks}"
    )
    return rows, notes


def write_rows(writes: WriteRun) -> tuple[list[Row], list[str]]:
    plain, outbox = median(writes.plain), median(writes.outbox)
    ratio = outbox / plain
    rows = [
        Row(f"(c) plain insert tx, median of {len(writes.plain)}", ms(plain)),
        Row(f"(c) insert + add_event tx, median of {len(writes.outbox)}", ms(outbox)),
        Row(
            "(c) outbox / plain write time",
            f"{ratio:.2f}x",
            f"<= {GOAL_WRITE_RATIO}x",
            ratio <= GOAL_WRITE_RATIO,
        ),
    ]
    notes = [
        f"(c) p99: plain {ms(pct(writes.plain, 99))}, outbox {ms(pct(writes.outbox, 99))}; "
        f"client CPU per tx: plain {writes.cpu_plain_us:.0f} µs, outbox {writes.cpu_outbox_us:.0f} µs"
    ]
    return rows, notes
