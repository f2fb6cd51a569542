"""Material resolution (一证通办) and the access rules that published items imply."""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts.catalog import ItemPublished, MaterialSpec
from contracts.envelope import new_event
from datashare.handlers import item_published

from .support import INTAKE, OPS, SUN, WANG, ZHOU, Datashare, citizen, datashare, department

ELDERLY_CARD = [
    {"name": "居民身份证", "required": True, "certificate_type": "id_card"},
    {"name": "户口簿", "required": True, "certificate_type": "hukou"},
    {"name": "结婚证", "required": False, "certificate_type": "marriage_cert"},
]


def published(version: int, types: list[str], item_id: str = "wc-mzj-lnyd") -> Any:
    data = ItemPublished(
        item_id=item_id,
        version=version,
        base_code="330520001000",
        implementation_code="113307020026767179" + "4" + "330520001000",
        name="老年人优待证办理",
        department_code="wc-mzj",
        handling_type="即办件",
        deciding_level="district",
        promised_limit_days=0,
        promised_limit_unit="工作日",
        trips=0,
        minsheng=True,
        materials=[
            MaterialSpec(name=t, required=True, key=False, rongque=False, certificate_type=t) for t in types
        ],
        effective_from=date(2026, 1, 1),
        joint_departments=["wc-gafj"],
    )
    return new_event(type="catalog.item.published", source="/catalog", subject=item_id, data=data)


async def _publish(ds: Datashare, event: Any) -> None:
    async with ds.app.state.sessions() as session, session.begin():
        await item_published(session, event)


async def test_published_items_entitle_their_departments_and_intake(db_url: str) -> None:
    async with datashare(db_url) as ds:
        first = published(1, ["id_card", "hukou", "marriage_cert"])
        await _publish(ds, first)
        await _publish(ds, first)  # redelivered: nothing changes
        rules = (await ds.client.get("/access-rules", headers=OPS)).json()
        assert sorted({r["consumer_code"] for r in rules}) == ["intake", "wc-gafj", "wc-mzj"]
        assert len(rules) == 9
        await _publish(ds, published(2, ["id_card", "hukou"]))
        rules = (await ds.client.get("/access-rules", headers=OPS)).json()
        assert len(rules) == 6
        assert {r["item_version"] for r in rules} == {2}
        assert "marriage_cert" not in {r["certificate_type"] for r in rules}


async def test_intake_learns_what_the_applicant_need_not_bring(db_url: str) -> None:
    async with datashare(db_url) as ds:
        await _publish(ds, published(1, ["id_card", "hukou", "marriage_cert"]))
        body = {"subject_id": WANG, "item_id": "wc-mzj-lnyd", "item_version": 1, "materials": ELDERLY_CARD}
        resolved = await ds.client.post("/resolutions", json=body, headers=INTAKE)
        assert resolved.status_code == 200, resolved.text
        answer = resolved.json()
        assert [(m["supply"], m["reason"]) for m in answer["materials"]] == [
            ("applicant", "identity_document"),
            ("datashare", "available"),
            ("datashare", "available"),
        ]
        assert (answer["supplied"], answer["to_bring"], answer["one_certificate"]) == (
            ["户口簿", "结婚证"],
            ["居民身份证"],
            True,
        )
        with_photo = {**body, "materials": [*ELDERLY_CARD, {"name": "近期一寸免冠照片", "required": True}]}
        photo = (await ds.client.post("/resolutions", json=with_photo, headers=INTAKE)).json()
        assert photo["one_certificate"] is False
        assert photo["materials"][-1]["reason"] == "no_certificate_type"
        only_the_card = {"subject_id": WANG, "materials": [ELDERLY_CARD[0]]}
        card = (await ds.client.post("/resolutions", json=only_the_card, headers=INTAKE)).json()
        assert (card["supplied"], card["one_certificate"]) == ([], True)
        # Unusable certificates, missing consent and missing rules say why the applicant brings it.
        materials = [
            {"name": "社保参保证明", "certificate_type": "social_insurance_cert"},
            {"name": "残疾人证", "certificate_type": "disability_card"},
        ]
        await ds.entitle("intake", "social_insurance_cert", None)
        zhou = await ds.client.post(
            "/resolutions", json={"subject_id": ZHOU, "materials": materials}, headers=INTAKE
        )
        assert [m["reason"] for m in zhou.json()["materials"]] == ["certificate_expired", "no_access_rule"]
        await ds.entitle("intake", "disability_card", None)
        sun = await ds.client.post(
            "/resolutions", json={"subject_id": SUN, "materials": materials}, headers=INTAKE
        )
        assert [m["reason"] for m in sun.json()["materials"]] == ["certificate_not_found", "consent_required"]
        firm = {
            "subject_id": "91330702MA20001K11",
            "materials": [{"name": "户口簿", "certificate_type": "hukou"}],
        }
        other = await ds.client.post("/resolutions", json=firm, headers=INTAKE)
        assert other.json()["materials"][0]["reason"] == "other_subject"
        # The citizen sees the check (nothing was released) in their log.
        seen = (await ds.client.post("/access-log/subject", json={}, headers=citizen(WANG))).json()["entries"]
        assert {(e["kind"], e["outcome"], e["consumer_code"]) for e in seen} == {
            ("resolution", "checked", "intake")
        }


async def test_resolution_bad_input(db_url: str) -> None:
    async with datashare(db_url) as ds:
        one = [{"name": "户口簿", "certificate_type": "hukou"}]
        invalid = await ds.client.post(
            "/resolutions", json={"subject_id": "33070219500315001X", "materials": one}, headers=INTAKE
        )
        assert (invalid.status_code, invalid.json()["code"]) == (422, "invalid_subject")
        empty = await ds.client.post(
            "/resolutions", json={"subject_id": WANG, "materials": []}, headers=INTAKE
        )
        assert empty.json()["errors"][0]["field"] == "materials"
        nameless = await ds.client.post(
            "/resolutions", json={"subject_id": WANG, "materials": [{}]}, headers=INTAKE
        )
        assert nameless.json()["errors"][0]["field"] == "materials.0.name"
        stranger = await ds.client.post(
            "/resolutions", json={"subject_id": WANG, "materials": one}, headers=department("wc-x")
        )
        assert stranger.json()["code"] == "unknown_consumer"
        operator = await ds.client.post(
            "/resolutions", json={"subject_id": WANG, "materials": one}, headers=OPS
        )
        assert operator.json()["code"] == "consumer_missing"
        citizen_caller = await ds.client.post(
            "/resolutions", json={"subject_id": WANG, "materials": one}, headers=citizen(WANG)
        )
        assert citizen_caller.status_code == 403
        assert [(r.outcome, r.reason) for r in await ds.log_rows()] == [
            ("denied", "invalid_subject"),
            ("denied", "unknown_consumer"),
            ("denied", "consumer_missing"),
        ]
