"""Held certificates: registered by their provider, revoked, expired, shown to their holder."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from datashare.certificates.service import expire_due
from messaging.tables import outbox

from .support import NOBODY, OPS, WANG, Caller, ask, citizen, datashare, department

CL = department("wc-cl")
CARD: dict[str, Any] = {
    "certificate_type": "disability_card",
    "number": f"{NOBODY}11",
    "subject_id": NOBODY,
    "holder_name": "钱小明",
    "issued_on": "2026-01-05",
    "valid_until": "2036-01-04",
    "fields": {"category": "视力残疾", "grade": "一级"},
}


async def _events(ds: Any) -> list[str]:
    async with ds.app.state.engine.connect() as conn:
        rows = await conn.execute(sa.select(outbox.c.event_type).order_by(outbox.c.seq))
        return [r.event_type for r in rows]


async def test_a_provider_registers_and_revokes_its_certificates(db_url: str) -> None:
    async with datashare(db_url) as ds:
        before = len(await _events(ds))
        created = await ds.client.post("/certificates", json=CARD, headers=CL)
        assert created.status_code == 201, created.text
        certificate_id = created.json()["id"]
        shown = await ds.client.get(f"/certificates/{certificate_id}", headers=citizen(NOBODY))
        assert shown.json()["holder_name"] == "钱小明"
        assert (
            await ds.client.get(f"/certificates/{certificate_id}", headers=citizen(WANG))
        ).status_code == 404
        mine = await ds.client.post("/certificates/search", json={}, headers=citizen(NOBODY))
        assert [c["id"] for c in mine.json()] == [certificate_id]
        await ds.client.post(
            "/consents", json={"certificate_type": "disability_card"}, headers=citizen(NOBODY)
        )
        await ds.entitle("wc-mzj", "disability_card")
        granted = await ds.client.post(
            "/evidence-requests", json=ask("disability_card", NOBODY), headers=department("wc-mzj")
        )
        assert granted.status_code == 201
        revoked = await ds.client.post(
            f"/certificates/{certificate_id}/revoke", json={"reason": "证件遗失补办"}, headers=CL
        )
        assert (revoked.json()["status"], revoked.json()["status_reason"]) == ("revoked", "证件遗失补办")
        refused = await ds.client.post(
            "/evidence-requests", json=ask("disability_card", NOBODY), headers=department("wc-mzj")
        )
        assert refused.json()["code"] == "certificate_revoked"
        events = (await _events(ds))[before:]
        assert events == [
            "datashare.certificate.registered",
            "datashare.evidence.released",
            "datashare.certificate.revoked",
        ]


async def test_certificate_registration_bad_input(db_url: str) -> None:
    async with datashare(db_url) as ds:
        cases: list[tuple[dict[str, Any], Caller, int, str]] = [
            ({"subject_id": "330702200001010118"}, CL, 422, "subject_id"),
            ({"subject_id": "91330702MA20001K11"}, CL, 422, "subject_id"),
            ({"certificate_type": "passport"}, CL, 422, "certificate_type"),
            ({"valid_until": None}, CL, 422, "valid_until"),
            ({"valid_until": "2020-01-01"}, CL, 422, ""),
            ({"fields": {"colour": "红"}}, CL, 422, "fields"),
            ({"issuer": "wc-cl"}, OPS, 201, ""),
            ({}, CL, 409, ""),
            ({"number": "X-2"}, department("wc-mzj"), 403, ""),
            ({"number": "X-3"}, OPS, 422, "issuer"),
        ]
        for change, caller, status, field in cases:
            response = await ds.client.post("/certificates", json={**CARD, **change}, headers=caller)
            assert response.status_code == status, (change, response.text)
            if status == 422:
                assert response.json()["errors"][0]["field"] == field, change
        assert (
            await ds.client.post("/certificates/nope/revoke", json={"reason": "x"}, headers=CL)
        ).status_code == 404
        no_reason = await ds.client.post("/certificates/nope/revoke", json={}, headers=CL)
        assert no_reason.json()["errors"][0]["field"] == "reason"
        other = await ds.client.post(
            "/certificates/search", json={"subject_id": WANG}, headers=citizen(NOBODY)
        )
        assert other.status_code == 403
        by_department = await ds.client.post(
            "/certificates/search", json={}, headers=department("wc-mzj", "datashare:read")
        )
        assert by_department.status_code == 403
        unnamed = await ds.client.post("/certificates/search", json={}, headers=OPS)
        assert unnamed.json()["errors"][0]["field"] == "subject_id"
        assert (
            len((await ds.client.post("/certificates/search", json={"subject_id": WANG}, headers=OPS)).json())
            == 7
        )


async def test_expiry_marks_certificates_and_announces_them(db_url: str) -> None:
    async with datashare(db_url) as ds:
        # 吴海涛's ID card ended 50 days ago; in 300 days 刘洋's residence permit ends too.
        async with ds.app.state.sessions() as session:
            assert await expire_due(session, date.today()) == 1
        async with ds.app.state.sessions() as session:
            assert await expire_due(session, date.today()) == 0
        async with ds.app.state.sessions() as session:
            assert await expire_due(session, date.today() + timedelta(days=300)) == 1
        assert (await _events(ds)).count("datashare.certificate.expired") == 2
