"""`make stack`: the production topology on one machine, every service's api and worker its own process.

Starts PostgreSQL (one database per service) and Kafka under .run/stack, runs each service's
migrate step, then its api (uvicorn) and worker, then the gateway on $PORT (8000), and stops
everything on SIGINT/SIGTERM. Tests and benchmarks use `Stack` directly.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from localinfra.errors import InfraError
from localinfra.kafka import KafkaBroker
from localinfra.paths import RUN_DIR
from localinfra.ports import free_ports
from localinfra.postgres import PostgresCluster

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

    internal_key: str = field(default_factory=lambda: secrets.token_hex(32))

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        clients = self.workdir / "clients.json"
        subprocess.run([sys.executable, "-m", "gateway.demo", str(clients)], check=True)
        self.postgres = PostgresCluster(self.workdir / "postgres")
        self.postgres.start()
        self.kafka = KafkaBroker(self.workdir / "kafka", partitions=3)
        self.kafka.start()
        ports = free_ports(len(SERVICES))
        for service, port in zip(SERVICES, ports, strict=True):
            self.service_ports[service] = port
            self.database_urls[service] = self._database(service)
            env = self.service_env(service)
            subprocess.run([sys.executable, "-m", "servicekit.migrate", service], env=env, check=True)
            if service == "catalog":  # the Wucheng catalogue, published through the outbox
                subprocess.run([sys.executable, "-m", "catalog.seed"], env=env, check=True)
            self._spawn(
                f"{service}-api",
                env,
                "-m",
                "uvicorn",
                "--factory",
                f"{service}.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            )
            self._spawn(f"{service}-worker", env, "-m", f"{service}.worker")
        gateway_env = {
            **os.environ,
            "GATEWAY_INTERNAL_TOKEN_KEY": self.internal_key,
            "GATEWAY_CLIENTS_FILE": str(clients),
            "GATEWAY_KEYS_DIR": str(self.workdir / "keys"),
        }
        for service, port in self.service_ports.items():
            gateway_env[f"GATEWAY_{service.upper()}_URL"] = f"http://127.0.0.1:{port}"
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

    def _database(self, service: str) -> str:
        assert self.postgres is not None
        try:
            return self.postgres.create_database(service)
        except Exception:
            return self.postgres.url(service)

    def service_env(self, service: str) -> dict[str, str]:
        assert self.kafka is not None
        prefix = service.upper()
        return {
            **os.environ,
            f"{prefix}_DATABASE_URL": self.database_urls[service],
            f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap,
            f"{prefix}_INTERNAL_TOKEN_KEY": self.internal_key,
        }

    def _spawn(self, name: str, env: dict[str, str], *args: str) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen([sys.executable, *args], env=env, stdout=log, stderr=log)

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
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.kafka is not None:
            self.kafka.stop()
        if self.postgres is not None:
            self.postgres.stop()


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
