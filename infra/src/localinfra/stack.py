"""`make stack`: the production topology on one machine, every service's api and worker its own process.

Starts PostgreSQL (one database per service) and Kafka under .run/stack, runs each service's
migrate step, then its api (uvicorn) and worker, then the gateway on $PORT (8000), and stops
everything on SIGINT/SIGTERM. Tests and benchmarks use `Stack` directly; fault tests also give
chosen services a PostgreSQL cluster of their own and kill, pause and respawn single processes.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from localinfra.errors import InfraError
from localinfra.kafka import KafkaBroker
from localinfra.paths import RUN_DIR
from localinfra.ports import free_ports
from localinfra.postgres import PostgresCluster
from localinfra.proc import die_with_parent

if TYPE_CHECKING:
    from gateway.citizens import DemoSso

SERVICES = ("catalog", "intake", "backoffice", "notify", "datashare")


@dataclass
class Stack:
    workdir: Path
    gateway_port: int
    kafka: KafkaBroker | None = None
    postgres: PostgresCluster | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    service_ports: dict[str, int] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)
    # A stand-in provincial SSO the gateway trusts, so tests and benchmarks can log citizens in.
    demo_sso: DemoSso | None = None
    # Services whose database lives in a cluster of its own, so a test can restart just that one.
    dedicated_postgres: tuple[str, ...] = ()
    # fsync on, as in production: benchmarks measure commits (tests skip it for speed).
    durable_postgres: bool = False
    clusters: dict[str, PostgresCluster] = field(default_factory=dict)
    commands: dict[str, tuple[dict[str, str], tuple[str, ...]]] = field(default_factory=dict)

    internal_key: str = field(default_factory=lambda: secrets.token_hex(32))

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        clients = self.workdir / "clients.json"
        self.kafka = KafkaBroker(self.workdir / "kafka", partitions=3)
        # The databases are prepared while the JVM boots, the longest single step. The broker is
        # started from this thread: it dies with the thread that spawned it (PR_SET_PDEATHSIG).
        with ThreadPoolExecutor(max_workers=2) as pool:
            demo = pool.submit(
                subprocess.run, [sys.executable, "-m", "gateway.demo", str(clients)], check=True
            )
            prepared = pool.submit(self._prepare_databases)
            try:
                self.kafka.start()
            finally:
                demo.result()
                prepared.result()
        for service in SERVICES:
            env = self.service_env(service)
            listen = ("--host", "127.0.0.1", "--port", str(self.service_ports[service]), "--no-access-log")
            self._spawn(f"{service}-api", env, "-m", "uvicorn", "--factory", f"{service}.main:app", *listen)
            self._spawn(f"{service}-worker", env, "-m", f"{service}.worker")
        gateway_env = {
            **os.environ,
            "GATEWAY_INTERNAL_TOKEN_KEY": self.internal_key,
            "GATEWAY_CLIENTS_FILE": str(clients),
            "GATEWAY_KEYS_DIR": str(self.workdir / "keys"),
        }
        if self.demo_sso is not None:
            public = self.demo_sso.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            gateway_env["GATEWAY_SSO_ISSUER"] = self.demo_sso.issuer
            gateway_env["GATEWAY_SSO_PUBLIC_KEY"] = base64.b64encode(public).decode()
        for service, service_port in self.service_ports.items():
            gateway_env[f"GATEWAY_{service.upper()}_URL"] = f"http://127.0.0.1:{service_port}"
        self._spawn(
            "gateway",
            gateway_env,
            "-m",
            "uvicorn",
            "--factory",
            "gateway.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.gateway_port),
            "--no-access-log",
        )
        self.wait_ready()

    def _prepare_databases(self) -> None:
        """Clusters, a database per service, every migrate step at once, then the catalogue seed."""
        durable = self.durable_postgres
        self.postgres = PostgresCluster(self.workdir / "postgres", durable=durable)
        for service in SERVICES:
            dedicated = service in self.dedicated_postgres
            self.clusters[service] = (
                PostgresCluster(self.workdir / f"postgres-{service}", durable=durable)
                if dedicated
                else self.postgres
            )
        with ThreadPoolExecutor() as pool:
            list(pool.map(PostgresCluster.start, {id(c): c for c in self.clusters.values()}.values()))
        for service, port in zip(SERVICES, free_ports(len(SERVICES)), strict=True):
            self.service_ports[service] = port
            self.database_urls[service] = self._database(service)
        migrations = {
            service: subprocess.Popen(
                [sys.executable, "-m", "servicekit.migrate", service], env=self.service_env(service)
            )
            for service in SERVICES
        }
        failed = [service for service, proc in migrations.items() if proc.wait(300) != 0]
        if failed:
            raise InfraError(f"migrate step failed for {failed}")
        # The Wucheng catalogue, published through the outbox.
        subprocess.run([sys.executable, "-m", "catalog.seed"], env=self.service_env("catalog"), check=True)

    def _database(self, service: str) -> str:
        cluster = self.clusters[service]
        try:
            return cluster.create_database(service)
        except Exception:
            return cluster.url(service)

    def service_env(self, service: str) -> dict[str, str]:
        assert self.kafka is not None
        prefix = service.upper()
        return {
            **os.environ,
            f"{prefix}_DATABASE_URL": self.database_urls[service],
            f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap,
            f"{prefix}_INTERNAL_TOKEN_KEY": self.internal_key,
            # 材料预审 asks datashare directly (service to service, not through the gateway).
            "INTAKE_DATASHARE_URL": f"http://127.0.0.1:{self.service_ports['datashare']}",
        }

    def _spawn(self, name: str, env: dict[str, str], *args: str) -> None:
        self.commands[name] = (env, args)
        with (self.workdir / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, *args], env=env, stdout=log, stderr=log, preexec_fn=die_with_parent
            )

    def kill(self, name: str) -> None:
        """SIGKILL one process (e.g. `backoffice-worker`), as a crash would; `respawn` brings it back."""
        self.processes[name].kill()
        self.processes[name].wait(10)

    def terminate(self, name: str, timeout_s: float = 30) -> int:
        """SIGTERM one process and wait for it to exit; returns its exit code."""
        process = self.processes[name]
        process.terminate()
        process.send_signal(signal.SIGCONT)  # a paused process must run to see the SIGTERM
        return process.wait(timeout_s)

    def respawn(self, name: str) -> None:
        """Start a process that exited (or was killed) again, with the same command and environment."""
        if self.processes[name].poll() is None:
            raise InfraError(f"{name} is still running")
        env, args = self.commands[name]
        self._spawn(name, env, *args)

    def pause(self, name: str) -> None:
        """SIGSTOP: the process holds its connections but does nothing (a hung or very slow system)."""
        self.processes[name].send_signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGCONT)

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        url = f"http://127.0.0.1:{self.gateway_port}/readyz"
        while time.monotonic() < deadline:
            dead = [n for n, p in self.processes.items() if p.poll() is not None]
            if dead:
                raise InfraError(f"stack process(es) exited: {dead}; see {self.workdir}/<name>.log")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise InfraError(f"gateway not ready within {timeout_s}s: {url}")

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
            process.send_signal(signal.SIGCONT)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.kafka is not None:
            self.kafka.stop()
        for cluster in {id(c): c for c in [*self.clusters.values(), self.postgres] if c is not None}.values():
            cluster.stop()


def main() -> int:
    stack = Stack(RUN_DIR / "stack", int(os.environ.get("PORT", "8000")))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        print(
            f"stack ready: http://127.0.0.1:{stack.gateway_port}/docs  (logs in {stack.workdir})", flush=True
        )
        while not stop.wait(1.0):
            dead = [n for n, p in stack.processes.items() if p.poll() is not None]
            if dead:
                print(f"stack: {dead} exited; shutting down", file=sys.stderr)
                return 1
    except InfraError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 2
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
