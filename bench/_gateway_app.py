"""Bare proxies for `bench/gateway.py --profile`, and the gateway served under cProfile.

`bare` is only the gateway's transport, `bare_aiohttp` the same with aiohttp as the upstream
client (the design the gateway used before): their CPU per request, beside the gateway's, shows
what the client costs and what the gateway's own features cost. Served from the repository root
with the bench's GATEWAY_* environment (`uvicorn --factory bench._gateway_app:bare`).
"""

from __future__ import annotations

import aiohttp
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.settings import GatewaySettings
from gateway.upstreams import HOP_BY_HOP, HttpUpstream

PREFIX = "/api/v1/catalog"


def bare() -> ASGIApp:
    """Only the gateway's transport: uvicorn + `HttpUpstream.forward`, no auth, limits, metrics or ids.

    `/api/v1/catalog/<path>` goes to the catalog service as `/<path>` with the caller's headers (so
    the caller brings the signed identity header). The gateway's CPU minus this one's is what its
    own features cost per request.
    """
    settings = GatewaySettings()
    upstream = HttpUpstream("catalog", settings.catalog_url, settings.upstream_timeout_s)

    async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            await upstream.close()
            return
        path: str = scope["path"]
        if scope["type"] != "http" or not path.startswith(PREFIX + "/"):
            await _not_found(send)
            return
        await upstream.forward(scope, receive, send, path[len(PREFIX) :])

    return proxy


def bare_aiohttp() -> ASGIApp:
    """`bare` with one pooled aiohttp.ClientSession instead (GET only: what the benchmark sends)."""
    settings = GatewaySettings()
    base = settings.catalog_url.rstrip("/")
    session: aiohttp.ClientSession | None = None

    async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal session
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            if session is not None:
                await session.close()
            return
        path: str = scope["path"]
        if scope["type"] != "http" or not path.startswith(PREFIX + "/"):
            await _not_found(send)
            return
        if session is None:
            connector = aiohttp.TCPConnector(limit=200, ttl_dns_cache=300)
            session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k not in HOP_BY_HOP
        ]
        async with session.get(
            base + path[len(PREFIX) :], headers=headers, allow_redirects=False
        ) as response:
            raw = [(k, v) for k, v in response.raw_headers if k.lower() not in HOP_BY_HOP]
            await send({"type": "http.response.start", "status": response.status, "headers": raw})
            async for chunk in response.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return proxy


async def _lifespan(receive: Receive, send: Send) -> None:
    """Answer start-up, return at shutdown (the caller then closes its client and confirms)."""
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


async def _not_found(send: Send) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _serve_profiled(out: str, port: int) -> None:
    """Serve gateway.main:app like `uvicorn --factory` (uvloop, httptools) under cProfile (from SIGUSR1
    on), timing CPU.

    CPU time, not wall time: idle waits in epoll and preemption by the other processes on these
    cores would otherwise be charged to whatever frame was running. uvicorn re-raises the signal
    that stopped it; SIGINT's KeyboardInterrupt lets `finally` write the profile.
    """
    import cProfile
    import signal
    import time

    import uvicorn

    config = uvicorn.Config(
        "gateway.main:app",
        factory=True,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
    profiler = cProfile.Profile(time.thread_time)
    # The benchmark sends SIGUSR1 when its measured run starts: start-up and warm-up stay out.
    signal.signal(signal.SIGUSR1, lambda _signum, _frame: profiler.enable())
    try:
        uvicorn.Server(config).run()
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="the gateway under cProfile")
    parser.add_argument("--profile-out", required=True)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    _serve_profiled(arguments.profile_out, arguments.port)
