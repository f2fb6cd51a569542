"""Members, subsystems, the evidence catalogue and access rules, with their bad input."""

from __future__ import annotations

from typing import Any

from govcodes.creditcode import check_char

from .support import OPS, datashare, department

ORG = "12330700MB1B2C3D4"
MEMBER: dict[str, Any] = {
    "code": "jh-gtj",
    "name": "金华市户籍管理系统（市级）",
    "credit_code": ORG + check_char(ORG),
    "level": "city",
    "subsystems": [{"code": "hukou-registry", "name": "户籍登记系统", "client_id": "jh-gtj-registry"}],
}
SPEC: dict[str, Any] = {
    "provider": "jh-gtj",
    "subject_kind": "person",
    "fields": [{"name": "household_head", "label": "户主姓名"}],
    "validity": "long_term",
    "trust_level": "A",
    "consent_required": False,
}


async def test_members_subsystems_and_catalogue_entries(db_url: str) -> None:
    async with datashare(db_url) as ds:
        created = await ds.client.post("/members", json=MEMBER, headers=OPS)
        assert created.status_code == 201, created.text
        assert created.json()["subsystems"][0]["client_id"] == "jh-gtj-registry"
        added = await ds.client.post(
            "/members/jh-gtj/subsystems", json={"code": "archive", "name": "档案系统"}, headers=OPS
        )
        assert added.status_code == 201
        members = (await ds.client.get("/members", headers=department("wc-mzj"))).json()
        assert len(members) == 37
        assert {m["code"] for m in members} >= {"wc-mzj", "jh-bdcdj", "intake", "jh-gtj"}
        replaced = await ds.client.put("/certificate-types/hukou", json=SPEC, headers=OPS)
        assert (replaced.status_code, replaced.json()["provider_code"]) == (200, "jh-gtj")
        catalogue = (await ds.client.get("/certificate-types", headers=department("wc-mzj"))).json()
        assert len(catalogue) == 15
        assert {t["code"] for t in catalogue} >= {
            "id_card", "hukou", "marriage_cert", "birth_medical_cert", "business_license", "property_cert",
            "social_insurance_cert", "elderly_card", "disability_card", "veteran_card", "construction_permit",
        }  # fmt: skip


async def test_directory_bad_input(db_url: str) -> None:
    async with datashare(db_url) as ds:
        bad_credit = await ds.client.post(
            "/members", json={**MEMBER, "credit_code": MEMBER["credit_code"][:-1] + "0"}, headers=OPS
        )
        assert bad_credit.json()["errors"][0]["field"] == "credit_code"
        bad_code = await ds.client.post("/members", json={**MEMBER, "code": "JH GTJ"}, headers=OPS)
        assert bad_code.json()["errors"][0]["field"] == "code"
        assert (await ds.client.post("/members", json=MEMBER, headers=OPS)).status_code == 201
        again = await ds.client.post("/members", json={**MEMBER, "subsystems": []}, headers=OPS)
        assert again.status_code == 409
        same_credit = await ds.client.post(
            "/members", json={**MEMBER, "code": "jh-other", "subsystems": []}, headers=OPS
        )
        assert same_credit.status_code == 409
        taken_client = await ds.client.post(
            "/members/wc-mzj/subsystems",
            json={"code": "x", "name": "x", "client_id": "jh-gtj-registry"},
            headers=OPS,
        )
        assert taken_client.status_code == 409
        nobody = await ds.client.post(
            "/members/wc-nobody/subsystems", json={"code": "x", "name": "x"}, headers=OPS
        )
        assert nobody.status_code == 404
        unknown_type = await ds.client.put("/certificate-types/passport", json=SPEC, headers=OPS)
        assert unknown_type.status_code == 404
        not_admin = await ds.client.post("/members", json=MEMBER, headers=department("wc-mzj"))
        assert not_admin.status_code == 403
        assert (await ds.client.get("/members")).status_code == 401
        citizen_reader = department("wc-mzj", "datashare:read")
        assert (await ds.client.get("/certificate-types", headers=citizen_reader)).status_code == 403


async def test_access_rules(db_url: str) -> None:
    async with datashare(db_url) as ds:
        rule_id = await ds.entitle("wc-mzj", "hukou")
        await ds.entitle("wc-rsj", "hukou", None)
        duplicate = await ds.client.post(
            "/access-rules", json={"consumer": "wc-rsj", "certificate_type": "hukou"}, headers=OPS
        )
        assert duplicate.status_code == 409
        own = (await ds.client.get("/access-rules", headers=department("wc-mzj"))).json()
        assert [r["id"] for r in own] == [rule_id]
        everyone = (
            await ds.client.get("/access-rules", params={"certificate_type": "hukou"}, headers=OPS)
        ).json()
        assert len(everyone) == 2
        revoked = await ds.client.post(f"/access-rules/{rule_id}/revoke", headers=OPS)
        assert revoked.json()["revoked_at"] is not None
        assert (await ds.client.get("/access-rules", headers=department("wc-mzj"))).json() == []
        for body, field in [
            ({"consumer": "wc-nobody", "certificate_type": "hukou"}, "consumer"),
            ({"consumer": "wc-mzj", "certificate_type": "passport"}, "certificate_type"),
            ({"consumer": "wc-mzj", "certificate_type": "hukou", "item_id": ""}, "item_id"),
        ]:
            refused = await ds.client.post("/access-rules", json=body, headers=OPS)
            assert refused.json()["errors"][0]["field"] == field
        assert (await ds.client.post("/access-rules/nope/revoke", headers=OPS)).status_code == 404
        unbounded = await ds.client.get("/access-rules", params={"limit": 0}, headers=OPS)
        assert unbounded.json()["errors"][0]["field"] == "query.limit"
        by_department = await ds.client.post(
            "/access-rules",
            json={"consumer": "wc-mzj", "certificate_type": "hukou"},
            headers=department("wc-mzj"),
        )
        assert by_department.status_code == 403
