"""docker-compose.yml names every service's roles, the settings they need, and sane start order."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import GatewaySettings
from servicekit.migrate import SERVICES

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services: dict[str, Any] = loaded["services"]
    return services


def _required_settings(service: str) -> set[str]:
    module = importlib.import_module(f"{service}.settings")
    cls = next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "ServiceSettings")
    prefix = cls.model_config["env_prefix"]
    return {f"{prefix}{name}".upper() for name, f in cls.model_fields.items() if f.is_required()}


def _module_of(command: list[str]) -> str:
    if command[:2] == ["python", "-m"]:
        return command[2]
    target = command[command.index("--factory") + 1]
    return target.split(":")[0]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_migrate_api_and_worker_with_its_settings(
    compose: dict[str, Any], service: str
) -> None:
    for role in ("migrate", "api", "worker"):
        spec = compose[f"{service}-{role}"]
        env = spec["environment"]
        assert _required_settings(service) <= set(env), f"{service}-{role} lacks required settings"
        assert f"{service.upper()}_KAFKA_BOOTSTRAP_SERVERS" in env
        module = _module_of(spec["command"])
        assert importlib.util.find_spec(module) is not None, f"{module} does not exist"
    assert compose[f"{service}-migrate"]["restart"] == "no"
    assert compose[f"{service}-migrate"]["command"][-1] == service
    for role in ("api", "worker"):
        deps = compose[f"{service}-{role}"]["depends_on"]
        assert deps[f"{service}-migrate"]["condition"] == "service_completed_successfully"
    assert compose[f"{service}-worker"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "healthcheck" in compose[f"{service}-api"]


def test_infrastructure_and_gateway(compose: dict[str, Any]) -> None:
    assert compose["kafka"]["image"].startswith("apache/kafka:4.")
    assert compose["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "healthcheck" in compose["kafka"]
    assert "healthcheck" in compose["postgres"]
    gateway = compose["gateway"]
    urls = {f"GATEWAY_{name.upper()}" for name in GatewaySettings.model_fields if name.endswith("_url")}
    required = {
        f"GATEWAY_{name.upper()}" for name, f in GatewaySettings.model_fields.items() if f.is_required()
    }
    assert urls | required <= set(gateway["environment"])
    assert set(gateway["depends_on"]) == {f"{s}-api" for s in SERVICES} | {"redis"}
    assert "healthcheck" in compose["redis"]
    expected = {"kafka", "postgres", "redis", "gateway"} | {
        f"{s}-{r}" for s in SERVICES for r in ("migrate", "api", "worker")
    }
    assert set(compose) == expected
