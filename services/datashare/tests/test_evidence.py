"""Evidence requests on PostgreSQL and SQLite: granted, refused for each reason, always logged."""

from __future__ import annotations

from typing import Any

import pytest

from .support import (
    INTAKE,
    LI,
    NOBODY,
    OPS,
    REVOKED_FIRM,
    WANG,
    WU,
    ZHOU,
    Caller,
    ask,
    citizen,
    datashare,
    department,
)

MZJ = department("wc-mzj")


async def test_granted_to_the_entitled_consumer_denied_to_another_both_logged(db_url: str) -> None:
    async with datashare(db_url) as ds:
        await ds.entitle("wc-mzj", "hukou")
        granted = await ds.client.post("/evidence-requests", json=ask("hukou"), headers=MZJ)
        assert granted.status_code == 201, granted.text
        body = granted.json()
        assert body["evidence"]["holder_name"] == "王建国"
        assert body["evidence"]["fields"]["household_type"] == "家庭户"
        assert (body["evidence"]["source"], body["evidence"]["provider_code"]) == ("held", "wc-gafj")
        assert body["request"]["subsystem"] == "approval"
        assert body["log"]["seq"] == 1
        denied = await ds.client.post("/evidence-requests", json=ask("hukou"), headers=department("wc-rsj"))
        assert denied.status_code == 403
        assert denied.headers["content-type"] == "application/problem+json"
        assert denied.json()["code"] == "no_access_rule"
        denied_id = denied.headers["x-evidence-request-id"]
        rows = await ds.log_rows()
        assert [(r.consumer_code, r.outcome, r.reason) for r in rows] == [
            ("wc-mzj", "granted", None),
            ("wc-rsj", "denied", "no_access_rule"),
        ]
        assert all(r.subject_mask == "330702********0013" for r in rows)
        assert await ds.scalar("SELECT count(*) FROM access_log WHERE entry LIKE :n", n=f"%{WANG}%") == 0
        assert await ds.released_events() == 1
        # Each consumer reads back its own request, not the other's.
        mine = await ds.client.get(f"/evidence-requests/{denied_id}", headers=department("wc-rsj"))
        assert (mine.json()["outcome"], mine.json()["reason"]) == ("denied", "no_access_rule")
        theirs = await ds.client.get(f"/evidence-requests/{denied_id}", headers=MZJ)
        assert theirs.status_code == 404
        listed = await ds.client.get("/access-log", headers=MZJ)
        assert [e["id"] for e in listed.json()] == [body["id"]]
        assert len((await ds.client.get("/access-log", headers=OPS)).json()) == 2


async def test_a_rule_for_one_item_does_not_cover_another(db_url: str) -> None:
    async with datashare(db_url) as ds:
        await ds.entitle("wc-mzj", "marriage_cert")
        other_item = await ds.client.post(
            "/evidence-requests", json=ask("marriage_cert", item_id="x"), headers=MZJ
        )
        assert other_item.json()["code"] == "no_access_rule"
        same_item = await ds.client.post("/evidence-requests", json=ask("marriage_cert", LI), headers=MZJ)
        assert same_item.json()["evidence"]["fields"]["spouse_name"] == "王建国"


REFUSALS: list[tuple[str, dict[str, Any], Caller, int, str]] = [
    ("no case number", ask("hukou", case_number=None), MZJ, 422, "purpose_missing"),
    ("blank case number", ask("hukou", case_number="  "), MZJ, 422, "purpose_missing"),
    ("no officer", ask("hukou", officer=None), MZJ, 422, "officer_missing"),
    ("bad check character", ask("hukou", WANG[:-1] + "4"), MZJ, 422, "invalid_subject"),
    ("a person's type for a firm", ask("hukou", REVOKED_FIRM), MZJ, 422, "invalid_subject"),
    ("type not in the catalogue", ask("passport"), MZJ, 422, "unknown_certificate_type"),
    ("nobody known", ask("hukou", NOBODY), MZJ, 404, "unknown_subject"),
    ("no such certificate", ask("graduation_cert"), MZJ, 404, "certificate_not_found"),
    ("expired ID card", ask("id_card", WU), MZJ, 409, "certificate_expired"),
    ("stale 社保参保证明", ask("social_insurance_cert", ZHOU), MZJ, 409, "certificate_expired"),
    ("revoked licence", ask("business_license", REVOKED_FIRM), MZJ, 409, "certificate_revoked"),
    ("needs consent", ask("birth_medical_cert", "330702201905200065"), MZJ, 403, "consent_required"),
    ("another member's name", ask("hukou", consumer="wc-rsj"), MZJ, 403, "consumer_mismatch"),
    ("operator without a member", ask("hukou"), OPS, 422, "consumer_missing"),
    ("unregistered consumer", ask("hukou"), department("wc-nobody"), 403, "unknown_consumer"),
]


async def test_each_refusal_has_its_own_code_is_logged_and_releases_nothing(db_url: str) -> None:
    async with datashare(db_url) as ds:
        for certificate_type in ("hukou", "graduation_cert", "id_card", "social_insurance_cert"):
            await ds.entitle("wc-mzj", certificate_type)
        for certificate_type in ("business_license", "birth_medical_cert"):
            await ds.entitle("wc-mzj", certificate_type, None)
        for n, (case, body, caller, status, code) in enumerate(REFUSALS, start=1):
            response = await ds.client.post("/evidence-requests", json=body, headers=caller)
            assert (response.status_code, response.json()["code"]) == (status, code), case
            assert "已记入访问日志" in response.json()["detail"]
            rows = await ds.log_rows()
            assert len(rows) == n, case
            assert (rows[-1].outcome, rows[-1].reason) == ("denied", code), case
        assert await ds.released_events() == 0
        verified = await ds.client.get("/access-log/verify", headers=OPS)
        assert verified.json()["ok"] is True
        assert verified.json()["checked"] == len(REFUSALS)


async def test_operators_act_for_a_named_member_and_intake_as_its_own(db_url: str) -> None:
    async with datashare(db_url) as ds:
        await ds.entitle("wc-mzj", "hukou")
        await ds.entitle("intake", "hukou")
        on_behalf = await ds.client.post(
            "/evidence-requests", json=ask("hukou", consumer="wc-mzj"), headers=OPS
        )
        assert on_behalf.status_code == 201
        assert on_behalf.json()["request"]["consumer"] == "wc-mzj"
        by_intake = await ds.client.post("/evidence-requests", json=ask("hukou"), headers=INTAKE)
        assert by_intake.status_code == 201, by_intake.text
        assert (by_intake.json()["request"]["consumer"], by_intake.json()["request"]["subsystem"]) == (
            "intake",
            "yichuang",
        )


async def test_requests_need_the_scope_and_a_well_formed_body(db_url: str) -> None:
    async with datashare(db_url) as ds:
        assert (await ds.client.post("/evidence-requests", json=ask("hukou"))).status_code == 401
        reader = await ds.client.post("/evidence-requests", json=ask("hukou"), headers=citizen(WANG))
        assert reader.status_code == 403
        unknown_field = await ds.client.post("/evidence-requests", json={**ask("hukou"), "x": 1}, headers=MZJ)
        assert unknown_field.status_code == 422
        assert unknown_field.json()["errors"][0]["field"] == "x"
        no_item = await ds.client.post("/evidence-requests", json=ask("hukou", item_id=None), headers=MZJ)
        assert no_item.json()["errors"][0]["field"] == "item_id"
        assert (await ds.client.get("/evidence-requests/nope", headers=MZJ)).status_code == 404
        assert await ds.log_rows() == []


@pytest.mark.parametrize("limit", [0, 501])
async def test_access_log_listing_bounds(db_url: str, limit: int) -> None:
    async with datashare(db_url, seed=False) as ds:
        response = await ds.client.get("/access-log", params={"limit": limit}, headers=OPS)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.limit"
