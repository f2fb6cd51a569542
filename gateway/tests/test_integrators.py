"""What an integrator meets: the whole embedded platform over real HTTP, a generated client, a fuzzer.

The platform (`make run`'s EmbeddedPlatform: five services, their workers, the seeded Wucheng
catalogue, the gateway) runs in a thread with its own event loop on a free loopback port.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS
from schemathesis.core.result import Ok

from gateway.demo import demo_secret
from gateway.embedded import EmbeddedPlatform

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    embedded = EmbeddedPlatform(
        "127.0.0.1", _free_port(), tmp_path_factory.mktemp("embedded"), rate_factor=100
    )
    thread = threading.Thread(target=asyncio.run, args=(embedded.run(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{embedded.url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the embedded platform did not become ready"
        assert thread.is_alive(), "the embedded platform stopped while starting"
        time.sleep(0.3)
    yield embedded.url
    embedded.stop()
    thread.join(30)


def _token(base_url: str, client_id: str) -> str:
    response = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, demo_secret(client_id)),
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def test_make_run_serves_docs_readiness_and_the_seeded_catalogue(platform: str) -> None:
    assert httpx.get(f"{platform}/docs").status_code == 200
    token = _token(platform, "zlb-app")
    page = httpx.get(
        f"{platform}/api/v1/catalog/items", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert page["total"] >= 250


def test_a_generated_client_compiles_and_makes_a_real_call(platform: str, tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_bytes(httpx.get(f"{platform}/openapi.json").content)
    generator = Path(sys.executable).with_name("openapi-python-client")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(tmp_path / "zuiduo_client"),
            "--meta",
            "none",
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    )
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(tmp_path / "zuiduo_client")], check=True)
    sys.path.insert(0, str(tmp_path))
    try:
        client_module = importlib.import_module("zuiduo_client")
        list_items = importlib.import_module("zuiduo_client.api.catalog.catalog_list_items")
        client = client_module.AuthenticatedClient(base_url=platform, token=_token(platform, "zlb-app"))
        page = list_items.sync(client=client, q="老年", limit=5)
        assert page is not None
        assert page.total >= 1
        assert all("老年" in item.name for item in page.items)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("zuiduo_client")]:
            del sys.modules[name]
        shutil.rmtree(tmp_path / "zuiduo_client", ignore_errors=True)


# Checks that judge business rules rather than the contract: a schema-valid application for an
# item that does not exist is rightly refused (positive_data_acceptance), and stateful checks
# need links the spec does not declare yet.
EXCLUDED = {"positive_data_acceptance", "use_after_free", "ensure_resource_availability"}


def test_schemathesis_finds_no_server_error_and_no_schema_violation(platform: str) -> None:
    schema = schemathesis.openapi.from_url(f"{platform}/openapi.json")
    headers = {"Authorization": f"Bearer {_token(platform, 'operator')}"}
    excluded: list[Any] = [check for check in CHECKS.get_all() if check.__name__ in EXCLUDED]
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=headers, excluded_checks=excluded)

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 13
    assert not failures, "\n\n".join(failures)
