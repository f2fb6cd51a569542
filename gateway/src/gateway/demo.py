"""Demo clients for every role, so a newcomer can try each at once (`make run`, `make stack`).

Every demo secret is `demo-<client_id>`: fine on 127.0.0.1, never in production (README).
"""

from __future__ import annotations

import json
from pathlib import Path

from gateway.clients import Client, ClientRegistry, hash_secret
from gateway.oauth import CITIZEN_SCOPES

# Valid GB 11643 numbers of made-up residents of Wucheng (330702).
DEMO_CITIZEN_ID = "330702195003150013"
DEMO_CITIZEN_NAME = "王建国"
DEPARTMENT_SCOPES = frozenset(
    {"catalog:read", "intake:read", "backoffice:read", "backoffice:decide", "datashare:request"}
)


def demo_secret(client_id: str) -> str:
    return f"demo-{client_id}"


def _client(client_id: str, **fields: object) -> Client:
    return Client(client_id=client_id, secret_hash=hash_secret(demo_secret(client_id)), **fields)  # type: ignore[arg-type]


def demo_registry(departments: list[dict[str, str]]) -> ClientRegistry:
    """The app, a citizen, a hall window, an operator, the 12345 hotline, one system client per department."""
    registry = ClientRegistry()
    registry.add(
        _client(
            "zlb-app",
            kind="system",
            name="浙里办（省级移动端）",
            scopes=frozenset({"catalog:read"}),
            may_assert_citizens=True,
            rate_per_s=500.0,
        )
    )
    registry.add(
        _client(
            "citizen-demo",
            kind="citizen",
            name="演示市民",
            scopes=CITIZEN_SCOPES,
            citizen_id=DEMO_CITIZEN_ID,
            citizen_name=DEMO_CITIZEN_NAME,
        )
    )
    registry.add(
        _client(
            "window-a01",
            kind="staff",
            name="综合受理窗口A01",
            window="A01",
            role="综合受理员",
            scopes=frozenset({"catalog:read", "intake:apply", "intake:read", "hall:operate"}),
        )
    )
    registry.add(_client("operator", kind="operator", name="平台运维", scopes=frozenset({"admin"})))
    registry.add(
        _client(
            "hotline-12345",
            kind="system",
            name="12345政务服务便民热线",
            scopes=frozenset({"complaint:write"}),
        )
    )
    for department in departments:
        kind = "municipal" if department.get("level") == "city" else "department"
        registry.add(
            _client(
                f"dept-{department['code']}",
                kind="system",
                name=f"{department['name']}（{kind}系统）",
                department=department["code"],
                scopes=DEPARTMENT_SCOPES,
            )
        )
    return registry


def ensure_demo_clients(path: Path, departments_file: Path) -> ClientRegistry:
    """The demo registry, written once to `path` (hashing is slow; later starts reuse the file)."""
    if path.exists():
        return ClientRegistry.load(path)
    departments = (
        json.loads(departments_file.read_text(encoding="utf-8")) if departments_file.exists() else []
    )
    registry = demo_registry(departments)
    path.parent.mkdir(parents=True, exist_ok=True)
    registry.save(path)
    return registry


if __name__ == "__main__":
    import sys

    from catalog.seed import DATA_DIR

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "infra/compose/gateway/clients.json")
    ensure_demo_clients(target, DATA_DIR / "departments.json")
    print(f"demo clients written to {target}; every secret is demo-<client_id>")
