"""Open-loop HTTP/1.1 load generator: request i is due at t0 + i/rate, its latency counts from then.

A stall of the server therefore shows up as latency for every request queued behind it (no
coordinated omission). Sends are paced by a Linux timerfd (nanosecond timer, woken through the event
loop), not by the event loop's own timers: those have 1 ms granularity, which would add up to 1 ms of
the generator's lateness to every latency (the wrk2 problem in /work/shared/research/performance.md
§2.2). Two senders share the pacer:

- `RawPool`: keep-alive connections speaking HTTP/1.1 over asyncio protocols, one request in flight
  per connection, a prebuilt request, and callbacks instead of tasks (the cheap one, about 15-25 µs of
  CPU per request);
- `AiohttpSender`: an `aiohttp.ClientSession` with a pooled connector, one task per request (what an
  application would use; about 3x the CPU).

When every connection is busy a request waits in a queue, and that wait is part of its latency.
Everything is bounded: a run stops waiting `drain_timeout_s` after its last send, and the requests
still open then are counted as timeouts (status -1). Connection errors count as status 0.

    async with RawPool(Target("127.0.0.1", 8080, "/items/x")) as pool:
        result = await open_loop(pool, rate=2000, duration_s=10)
        print(result.percentile(0.99), result.achieved_rate)

The parts: loadgen_core (Target, Sender, Result), loadgen_pacing (open_loop, closed_loop, the timerfd
pacer), loadgen_senders (RawPool, AiohttpSender). Import from here: these names stay put.
"""

from __future__ import annotations

from bench.loadgen_core import CONNECTION_ERROR, TIMED_OUT, Done, Result, Sender, Target
from bench.loadgen_pacing import closed_loop, open_loop, reduce_timer_slack
from bench.loadgen_senders import AiohttpSender, RawPool

__all__ = [
    "CONNECTION_ERROR",
    "TIMED_OUT",
    "AiohttpSender",
    "Done",
    "RawPool",
    "Result",
    "Sender",
    "Target",
    "closed_loop",
    "open_loop",
    "reduce_timer_slack",
]
