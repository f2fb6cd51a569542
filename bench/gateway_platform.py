"""What the gateway benchmark runs against: the catalogue in PostgreSQL, the service, the gateway, nginx."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bench.gateway_procs import (
    HOST,
    PYTHON,
    REPO,
    BenchError,
    Server,
    Watched,
    http_request,
    log,
    start_server,
    uvicorn_cmd,
    wait_ready,
)
from bench.loadgen import Target
from catalog.db import MIGRATIONS_DIR
from catalog.seed import load_wucheng
from localinfra.ports import free_ports
from localinfra.postgres import PostgresCluster, start_postgres
from servicekit.db import make_engine, make_sessionmaker
from servicekit.identity import HEADER as IDENTITY_HEADER
from servicekit.identity import Identity, sign
from servicekit.migrations import upgrade

CLIENT_ID = "zlb-app"
CLIENT_SECRET = "demo-zlb-app"  # gateway.demo.demo_secret("zlb-app"): public demo credentials
# What the gateway signs for zlb-app's token (gateway.oauth._identity_of), for direct and nginx calls.
IDENTITY = Identity(kind="system", client_id=CLIENT_ID, scopes=frozenset({"catalog:read"}))
# Every route's limit x1e6 (GATEWAY_RATE_FACTOR): a route allows only 50 req/s per caller.
RATE_FACTOR = "1e6"


@dataclass
class Setup:
    item_id: str
    internal_key: bytes
    service_port: int
    gateway_port: int
    nginx_port: int
    static_port: int
    watched: list[Watched] = field(default_factory=list)
    servers: dict[str, Server] = field(default_factory=dict)
    gateway_env: dict[str, str] = field(default_factory=dict)

    def identity_headers(self) -> dict[str, str]:
        """A freshly signed identity header (valid for servicekit.identity.TTL_S = 60 s)."""
        return {IDENTITY_HEADER: sign(IDENTITY, self.internal_key)}

    def token(self) -> str:
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        status, body = http_request(
            self.gateway_port,
            "POST",
            "/api/v1/auth/token",
            {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
            b"grant_type=client_credentials",
        )
        if status != 200:
            raise BenchError(f"token request refused: {status} {body[:300]!r}")
        token: str = json.loads(body)["access_token"]
        return token

    def target(self, path_name: str) -> Target:
        """The request of one path, with fresh credentials (fetch them outside measured windows)."""
        if path_name == "gateway":
            bearer = {"Authorization": f"Bearer {self.token()}"}
            return Target(HOST, self.gateway_port, f"/api/v1/catalog/items/{self.item_id}", bearer)
        port = {"direct": self.service_port, "nginx": self.nginx_port, "static": self.static_port}[path_name]
        return Target(HOST, port, f"/items/{self.item_id}", self.identity_headers())


# --- setup ---------------------------------------------------------------------------------------


async def seed(url: str) -> tuple[str, str]:
    """Load the Wucheng catalogue; (the item to read, the database's version)."""
    engine = make_engine(url)
    try:
        departments, items = await load_wucheng(make_sessionmaker(engine))
        log(f"seeded {departments} departments and {items} items")
        async with engine.connect() as conn:
            item_id = await conn.scalar(
                sa.text(
                    "SELECT item_id FROM item_version WHERE status = 'published' ORDER BY item_id LIMIT 1"
                )
            )
            if engine.dialect.name == "sqlite":
                version = "SQLite " + str(await conn.scalar(sa.text("SELECT sqlite_version()")))
            else:
                version = "PostgreSQL " + str(await conn.scalar(sa.text("SHOW server_version"))).split()[0]
    finally:
        await engine.dispose()
    if not item_id:
        raise BenchError("no published item after seeding")
    return str(item_id), version


NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
    upstream catalog {{
        server {host}:{service};
        keepalive 128;
        keepalive_requests 10000000;
    }}
    server {{
        listen {host}:{proxy};
        location / {{
            proxy_pass http://catalog;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
    server {{
        listen {host}:{static};
        location / {{
            default_type application/json;
            root {d}/www;
            try_files /item.json =404;
        }}
    }}
}}
"""


def start_nginx(stack: contextlib.ExitStack, workdir: Path, setup: Setup, body: bytes) -> Server:
    nginx_dir = workdir / "nginx"
    (nginx_dir / "www").mkdir(parents=True)
    (nginx_dir / "www" / "item.json").write_bytes(body)
    for path in (workdir, nginx_dir, nginx_dir / "www", nginx_dir / "www" / "item.json"):
        path.chmod(0o755)  # nginx's worker runs as nobody when this runs as root
    conf = nginx_dir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            d=nginx_dir,
            host=HOST,
            service=setup.service_port,
            proxy=setup.nginx_port,
            static=setup.static_port,
        )
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    cmd = [nginx, "-e", str(nginx_dir / "nginx-error.log"), "-p", str(nginx_dir), "-c", str(conf)]
    return start_server(stack, "nginx", cmd, workdir)


@contextlib.contextmanager
def platform_up(
    args: argparse.Namespace, workdir: Path, with_nginx: bool, profile_to: Path | None
) -> Iterator[tuple[Setup, str, bytes]]:
    """Database, service, gateway (and nginx) started and checked; all stopped on the way out."""
    with contextlib.ExitStack() as stack:
        watched: list[Watched] = []  # this process (and wrk) is counted apart, as "bench"
        if args.db == "postgres":
            log("starting PostgreSQL (throwaway cluster; the benchmark only reads)")
            cluster: PostgresCluster = start_postgres()
            stack.callback(cluster.close)
            url = cluster.create_database("catalog")
            if cluster.pid is not None:
                watched.append(Watched("postgres", cluster.pid, tree=True))
        else:
            url = f"sqlite+aiosqlite:///{workdir / 'catalog.db'}"
        log("migrating and seeding the catalogue")
        upgrade(MIGRATIONS_DIR, url)
        item_id, db_version = asyncio.run(seed(url))
        service_port, gateway_port, nginx_port, static_port = free_ports(4)
        setup = Setup(
            item_id, secrets.token_hex(32).encode(), service_port, gateway_port, nginx_port, static_port
        )
        setup.watched = watched

        clients = workdir / "clients.json"
        subprocess.run(
            [PYTHON, "-m", "gateway.demo", str(clients)],
            cwd=REPO,
            check=True,
            timeout=120,
            capture_output=True,
        )
        env = dict(os.environ)
        service = start_server(
            stack,
            "service",
            uvicorn_cmd("catalog.main:app", service_port),
            workdir,
            {**env, "CATALOG_DATABASE_URL": url, "CATALOG_INTERNAL_TOKEN_KEY": setup.internal_key.decode()},
        )
        gateway_env = {
            **env,
            "GATEWAY_CATALOG_URL": f"http://{HOST}:{service_port}",
            "GATEWAY_INTERNAL_TOKEN_KEY": setup.internal_key.decode(),
            "GATEWAY_CLIENTS_FILE": str(clients),
            "GATEWAY_KEYS_DIR": str(workdir / "keys"),
            "GATEWAY_RATE_FACTOR": RATE_FACTOR,
        }
        gateway_cmd = uvicorn_cmd("gateway.main:app", gateway_port)
        if profile_to is not None:
            gateway_cmd = [
                PYTHON, "-m", "bench._gateway_app", "--profile-out", str(profile_to), "--port", str(gateway_port),
            ]  # fmt: skip
        gateway = start_server(stack, "gateway", gateway_cmd, workdir, gateway_env)
        wait_ready(service, service_port, "/healthz")
        wait_ready(gateway, gateway_port, "/healthz")
        watched += [Watched("service", service.pid), Watched("gateway", gateway.pid)]
        setup.servers.update(service=service, gateway=gateway)
        setup.gateway_env = gateway_env

        direct = setup.target("direct")
        status, body = http_request(service_port, "GET", direct.path, direct.headers)
        if status != 200:
            raise BenchError(f"direct GET {direct.path}: {status} {body[:300]!r}")
        via_gateway = setup.target("gateway")
        status, gw_body = http_request(gateway_port, "GET", via_gateway.path, via_gateway.headers)
        if status != 200 or json.loads(gw_body) != json.loads(body):
            raise BenchError(f"gateway GET {via_gateway.path}: {status} {gw_body[:300]!r}")
        if with_nginx:
            nginx = start_nginx(stack, workdir, setup, body)
            wait_ready(nginx, static_port, "/")
            watched.append(Watched("nginx", nginx.pid, tree=True))
            for name in ("nginx", "static"):
                target = setup.target(name)
                status, other = http_request(target.port, "GET", target.path, target.headers)
                if status != 200 or json.loads(other) != json.loads(body):
                    raise BenchError(f"{name} GET {target.path}: {status} {other[:300]!r}")
        log(f"item {item_id}: {len(body):,} bytes of JSON, the same on every path")
        yield setup, db_version, body
