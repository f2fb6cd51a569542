"""The embedded mode (`make run`): gateway and all five services in one process.

SQLite file per service under $DATA_DIR (default .run/embedded), the in-process bus between
them with the same outbox/inbox semantics as Kafka, the Wucheng catalogue loaded on first start.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import secrets
from datetime import date
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from gateway.citizens import DemoSso
from gateway.demo import ensure_demo_clients
from gateway.keys import KeySet
from gateway.main import create_gateway
from gateway.routes import SERVICES
from gateway.security import Security
from gateway.tokens import TokenIssuer
from gateway.upstreams import AsgiUpstream, Upstream
from messaging.inprocess import InProcessBroker
from servicekit.logs import configure_logging
from servicekit.migrations import upgrade
from servicekit.worker import Subscribe, Worker

log = logging.getLogger("embedded")
# Services whose worker module offers `embedded_tasks(app, stop)`: coroutines to run beside its consumers.
BACKGROUND = ("intake", "backoffice", "notify")


def _service_module(service: str, module: str) -> object:
    return importlib.import_module(f"{service}.{module}")


class EmbeddedPlatform:
    """All services, their workers and the gateway in this process; `stop()` may come from any thread."""

    def __init__(self, host: str, port: int, data_dir: Path, rate_factor: float = 1.0) -> None:
        self.host, self.port, self.data_dir = host, port, data_dir
        self.rate_factor = rate_factor
        self.server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True

    async def run(self) -> None:
        broker = InProcessBroker()
        stop = asyncio.Event()
        # A fresh key per start: the services and the gateway live and die together here.
        internal_key = secrets.token_bytes(32)
        upstreams: dict[str, Upstream] = {}
        workers: list[asyncio.Task[None]] = []
        async with contextlib.AsyncExitStack() as stack:
            for service in SERVICES:
                app = await self._start_service(service, internal_key, stack)
                upstreams[service] = AsgiUpstream(service, app)
                subscriptions: list[Subscribe] = _service_module(service, "handlers").SUBSCRIPTIONS  # type: ignore[attr-defined]
                worker = Worker(
                    name=service, engine=app.state.engine, transport=broker, subscriptions=subscriptions
                )
                workers.append(asyncio.create_task(worker.run(stop), name=f"{service}-worker"))
                if service in BACKGROUND:  # periodic work of its worker: 督查 sweeps, sending messages
                    jobs = _service_module(service, "worker").embedded_tasks(app, stop)  # type: ignore[attr-defined]
                    workers += [asyncio.create_task(job, name=f"{service}-background") for job in jobs]
                await self._seed(service, app)
            # Intake's 材料预审 asks the datashare app in this process (datashare starts after intake).
            _service_module("intake", "worker").use_datashare(upstreams["intake"], upstreams["datashare"])  # type: ignore[attr-defined]
            security = await asyncio.to_thread(_security, self.data_dir, internal_key)
            config = uvicorn.Config(
                create_gateway(upstreams, security, rate_factor=self.rate_factor),
                host=self.host,
                port=self.port,
                log_config=None,
                access_log=False,
            )
            self.server = uvicorn.Server(config)
            print(f"婺城区最多跑一次平台 (embedded) on {self.url}  API docs: {self.url}/docs", flush=True)
            try:
                await self.server.serve()
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*workers, return_exceptions=True), 10)

    async def _start_service(
        self, service: str, internal_key: bytes, stack: contextlib.AsyncExitStack
    ) -> FastAPI:
        url = f"sqlite+aiosqlite:///{self.data_dir / service}.db"
        migrations: Path = _service_module(service, "db").MIGRATIONS_DIR  # type: ignore[attr-defined]
        await asyncio.to_thread(upgrade, migrations, url)  # the migrate step, before serving
        app: FastAPI = _service_module(service, "main").create_app(url, internal_key)  # type: ignore[attr-defined]
        await stack.enter_async_context(app.router.lifespan_context(app))
        return app

    async def _seed(self, service: str, app: FastAPI) -> None:
        """Demo data on first start: the catalogue, the hall, contacts, certificates."""
        sessions = app.state.sessions
        if service == "catalog":
            departments, items = await importlib.import_module("catalog.seed").load_wucheng(sessions)
            log.info("Wucheng catalogue: %d departments, %d items loaded", departments, items)
        elif service == "intake":
            slots = await importlib.import_module("intake.hall.seed").load_demo_hall(sessions, date.today())
            log.info("demo hall: %d appointment slots loaded", slots)
            bad_credit = importlib.import_module("intake.applications.seed").load_demo_bad_credit
            listed = await bad_credit(sessions, date.today())
            log.info("demo bad-credit list: %d entries loaded", listed)
        elif service == "notify":
            contacts = await importlib.import_module("notify.seed").load_demo_contacts(sessions)
            log.info("demo contacts: %d loaded", contacts)
        elif service == "datashare":
            loaded = await importlib.import_module("datashare.seed").load_demo(sessions)
            log.info("datashare demo: %s", loaded)


def _security(data_dir: Path, internal_key: bytes) -> Security:
    catalog_data = importlib.import_module("catalog.seed").DATA_DIR
    registry = ensure_demo_clients(data_dir / "clients.json", catalog_data / "departments.json")
    keys = KeySet.load_or_create(data_dir / "keys", retain_s=1800)
    sso = DemoSso.create()
    return Security(
        issuer=TokenIssuer(
            keys, issuer="https://gateway.wucheng.zuiduo.local", audience="zuiduo-api", ttl_s=900
        ),
        registry=registry,
        internal_key=internal_key,
        sso=sso.trust,
        demo_sso=sso,
    )


def main() -> None:
    configure_logging("embedded", os.environ.get("LOG_LEVEL", "INFO"))
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    data_dir = Path(os.environ.get("DATA_DIR", ".run/embedded"))
    data_dir.mkdir(parents=True, exist_ok=True)
    rate_factor = float(os.environ.get("RATE_LIMIT_FACTOR", "1"))
    asyncio.run(EmbeddedPlatform(host, port, data_dir, rate_factor).run())


if __name__ == "__main__":
    main()
