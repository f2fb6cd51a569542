"""The gateway as `gateway.main.app()` builds it, but with every route limit raised (benchmarks only).

`GatewaySettings` has no field for `create_gateway`'s `rate_factor`, so bench/gateway.py serves this
factory instead: `uvicorn --factory bench._gateway_app:app` from the repository root, same GATEWAY_*
environment. `BENCH_RATE_FACTOR` overrides the factor (default 1e6: 50 req/s becomes 5e7 req/s).
"""

from __future__ import annotations

import os

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.main import create_gateway
from gateway.security import security_from
from gateway.settings import GatewaySettings
from gateway.upstreams import HttpUpstream, Upstream
from servicekit.requestid import RequestIdMiddleware

RATE_FACTOR = float(os.environ.get("BENCH_RATE_FACTOR", "1e6"))


def app() -> RequestIdMiddleware:
    """Factory for `uvicorn --factory bench._gateway_app:app`."""
    settings = GatewaySettings()
    upstreams: dict[str, Upstream] = {
        name: HttpUpstream(name, url, settings.upstream_timeout_s)
        for name, url in settings.upstream_urls().items()
    }
    return create_gateway(
        upstreams, security_from(settings), settings.max_body_bytes, rate_factor=RATE_FACTOR
    )


def bare() -> ASGIApp:
    """Only the gateway's transport: uvicorn + `HttpUpstream.forward`, no auth, limits, metrics or ids.

    `/api/v1/catalog/<path>` goes to the catalog service as `/<path>` with the caller's headers (so
    the caller brings the signed identity header). The gateway's CPU minus this one's is what its
    own features cost per request.
    """
    settings = GatewaySettings()
    upstream = HttpUpstream("catalog", settings.catalog_url, settings.upstream_timeout_s)
    prefix = "/api/v1/catalog"

    async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await upstream.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        path: str = scope["path"]
        if scope["type"] != "http" or not path.startswith(prefix + "/"):
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await upstream.forward(scope, receive, send, path[len(prefix) :])

    return proxy


def _serve_profiled(out: str, port: int) -> None:
    """Serve like `uvicorn --factory` (uvloop, httptools) under cProfile (from SIGUSR1 on), timing CPU.

    CPU time, not wall time: idle waits in epoll and preemption by the other processes on these
    cores would otherwise be charged to whatever frame was running. uvicorn re-raises the signal
    that stopped it; SIGINT's KeyboardInterrupt lets `finally` write the profile.
    """
    import cProfile
    import signal
    import time

    import uvicorn

    config = uvicorn.Config(
        app,
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

    parser = argparse.ArgumentParser(description="the benchmark gateway under cProfile")
    parser.add_argument("--profile-out", required=True)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    _serve_profiled(arguments.profile_out, arguments.port)
