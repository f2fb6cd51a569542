"""A federated provider (a tiny real HTTP registry on 127.0.0.1): answering, timing out, garbage."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from .support import OPS, WANG, ask, datashare, department

MZJ = department("wc-mzj")
ASKED = web.AppKey("asked", list[dict[str, Any]])
CERTIFICATE = {
    "number": "浙(2023)金华市不动产权第0099999号",
    "subject_id": WANG,
    "issuer_code": "jh-bdcdj",
    "issued_on": "2023-04-01",
    "holder_name": "王建国",
    "fields": {"location": "婺城区八一南街88号", "area": "96.3平方米"},
}


async def _ok(request: web.Request) -> web.Response:
    query = await request.json()
    request.app[ASKED].append(query)
    return web.json_response(
        {"found": True, "certificate": {**CERTIFICATE, "subject_id": query["subject_id"]}}
    )


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.json_response({"found": False})


async def _garbage(request: web.Request) -> web.Response:
    return web.Response(text="<html>系统维护中</html>", content_type="text/html")


async def _wrong_shape(request: web.Request) -> web.Response:
    return web.json_response({"found": True, "certificate": {"number": 7}})


async def _someone_else(request: web.Request) -> web.Response:
    return web.json_response(
        {"found": True, "certificate": {**CERTIFICATE, "subject_id": "330702195208210104"}}
    )


async def _missing(request: web.Request) -> web.Response:
    return web.json_response({"found": False}, status=404)


async def _failing(request: web.Request) -> web.Response:
    return web.json_response({"error": "数据库连接失败"}, status=500)


async def _revoked(request: web.Request) -> web.Response:
    return web.json_response({"found": True, "certificate": {**CERTIFICATE, "status": "revoked"}})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def provider() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    app = web.Application()
    app[ASKED] = []
    handlers = {
        "ok": _ok,
        "slow": _slow,
        "garbage": _garbage,
        "wrong-shape": _wrong_shape,
        "someone-else": _someone_else,
        "missing": _missing,
        "failing": _failing,
        "revoked": _revoked,
    }
    for name, handler in handlers.items():
        app.router.add_post(f"/{name}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    yield f"http://127.0.0.1:{port}", app[ASKED]
    await runner.cleanup()


def _federated(url: str, timeout_ms: int = 1000) -> dict[str, Any]:
    return {
        "provider": "jh-bdcdj",
        "subject_kind": "person",
        "fields": [{"name": "location", "label": "坐落"}, {"name": "area", "label": "面积"}],
        "validity": "long_term",
        "trust_level": "A",
        "consent_required": False,
        "endpoint_url": url,
        "timeout_ms": timeout_ms,
    }


CASES = [
    ("slow", 504, "provider_timeout"),
    ("garbage", 502, "provider_bad_answer"),
    ("wrong-shape", 502, "provider_bad_answer"),
    ("someone-else", 502, "provider_bad_answer"),
    ("failing", 502, "provider_unavailable"),
    ("missing", 404, "certificate_not_found"),
    ("revoked", 409, "certificate_revoked"),
]


async def test_a_federated_provider_answers_times_out_and_answers_garbage(
    db_url: str, provider: tuple[str, list[dict[str, Any]]]
) -> None:
    base, asked = provider
    async with datashare(db_url) as ds:
        await ds.entitle("wc-mzj", "property_cert")
        registered = await ds.client.put(
            "/certificate-types/property_cert", json=_federated(f"{base}/ok"), headers=OPS
        )
        assert registered.json()["mode"] == "federated"
        answer = await ds.client.post("/evidence-requests", json=ask("property_cert"), headers=MZJ)
        assert answer.status_code == 201, answer.text
        evidence = answer.json()["evidence"]
        assert (evidence["source"], evidence["number"]) == ("federated", CERTIFICATE["number"])
        assert asked[0]["case_number"] == ask("property_cert")["case_number"]
        assert asked[0]["consumer"] == "wc-mzj"
        for n, (path, status, code) in enumerate(CASES, start=2):
            await ds.client.put(
                "/certificate-types/property_cert", json=_federated(f"{base}/{path}", 300), headers=OPS
            )
            response = await ds.client.post("/evidence-requests", json=ask("property_cert"), headers=MZJ)
            assert (response.status_code, response.json()["code"]) == (status, code), path
            rows = await ds.log_rows()
            assert (len(rows), rows[-1].outcome, rows[-1].reason) == (n, "denied", code), path
        assert await ds.released_events() == 1
        # A provider that is not there at all is unavailable, not an error of ours.
        await ds.client.put(
            "/certificate-types/property_cert", json=_federated("http://127.0.0.1:9/x"), headers=OPS
        )
        gone = await ds.client.post("/evidence-requests", json=ask("property_cert"), headers=MZJ)
        assert gone.json()["code"] == "provider_unavailable"
        # The material resolution asks the provider live too, and says why it cannot supply.
        await ds.client.put(
            "/certificate-types/property_cert", json=_federated(f"{base}/slow", 200), headers=OPS
        )
        body = {
            "subject_id": WANG,
            "item_id": "wc-mzj-lnyd",
            "materials": [{"name": "不动产权证书", "certificate_type": "property_cert"}],
        }
        resolved = await ds.client.post("/resolutions", json=body, headers=MZJ)
        assert resolved.json()["materials"][0]["reason"] == "provider_timeout"
        report = (await ds.client.get("/access-log/verify", headers=OPS)).json()
        assert report["ok"] is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint_url": "ftp://registry.example/x"}, "endpoint_url"),
        ({"timeout_ms": 10}, "timeout_ms"),
        ({"provider": "wc-nobody"}, "provider"),
        ({"trust_level": "E"}, "trust_level"),
    ],
)
async def test_bad_provider_registrations_are_refused(
    db_url: str, change: dict[str, Any], field: str
) -> None:
    async with datashare(db_url) as ds:
        response = await ds.client.put(
            "/certificate-types/property_cert",
            json={**_federated("http://127.0.0.1:1/x"), **change},
            headers=OPS,
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
        catalogue = (await ds.client.get("/certificate-types", headers=MZJ)).json()
        assert next(t for t in catalogue if t["code"] == "property_cert")["mode"] == "held"
