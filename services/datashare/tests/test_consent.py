"""Consent on PostgreSQL and SQLite: required, given by the citizen, revoked; only one's own."""

from __future__ import annotations

from .support import LI, NOBODY, OPS, SUN, WANG, ask, citizen, datashare, department

MZJ = department("wc-mzj")


async def test_consent_required_then_given_then_revoked(db_url: str) -> None:
    async with datashare(db_url) as ds:
        await ds.entitle("wc-mzj", "disability_card")
        body = ask("disability_card", SUN)
        before = await ds.client.post("/evidence-requests", json=body, headers=MZJ)
        assert (before.status_code, before.json()["code"]) == (403, "consent_required")
        given = await ds.client.post(
            "/consents",
            json={"certificate_type": "disability_card", "consumer": "wc-mzj"},
            headers=citizen(SUN),
        )
        assert given.status_code == 201, given.text
        assert given.json()["subject_mask"] == "330702********0194"
        granted = await ds.client.post("/evidence-requests", json=body, headers=MZJ)
        assert granted.status_code == 201, granted.text
        assert granted.json()["evidence"]["fields"] == {"category": "肢体残疾", "grade": "二级"}
        # The consent names wc-mzj only: another entitled consumer still needs its own.
        await ds.entitle("wc-rsj", "disability_card")
        other = await ds.client.post("/evidence-requests", json=body, headers=department("wc-rsj"))
        assert other.json()["code"] == "consent_required"
        mine = await ds.client.get("/consents", headers=citizen(SUN))
        assert [c["id"] for c in mine.json()] == [given.json()["id"]]
        revoked = await ds.client.post(f"/consents/{given.json()['id']}/revoke", headers=citizen(SUN))
        assert revoked.json()["revoked_at"] is not None
        after = await ds.client.post("/evidence-requests", json=body, headers=MZJ)
        assert after.json()["code"] == "consent_required"
        outcomes = [(r.consumer_code, r.outcome, r.reason) for r in await ds.log_rows()]
        assert outcomes == [
            ("wc-mzj", "denied", "consent_required"),
            ("wc-mzj", "granted", None),
            ("wc-rsj", "denied", "consent_required"),
            ("wc-mzj", "denied", "consent_required"),
        ]


async def test_a_consent_narrowed_to_a_case_covers_that_case_only(db_url: str) -> None:
    async with datashare(db_url) as ds:
        await ds.entitle("wc-mzj", "disability_card")
        consent = {"certificate_type": "disability_card", "case_number": "CASE-1", "expires_on": "2999-12-31"}
        assert (await ds.client.post("/consents", json=consent, headers=citizen(SUN))).status_code == 201
        that_case = await ds.client.post(
            "/evidence-requests", json=ask("disability_card", SUN, case_number="CASE-1"), headers=MZJ
        )
        assert that_case.status_code == 201
        another = await ds.client.post(
            "/evidence-requests", json=ask("disability_card", SUN, case_number="CASE-2"), headers=MZJ
        )
        assert another.json()["code"] == "consent_required"


async def test_consent_is_the_subjects_own(db_url: str) -> None:
    async with datashare(db_url) as ds:
        for_someone_else = await ds.client.post(
            "/consents",
            json={"certificate_type": "disability_card", "subject_id": SUN},
            headers=citizen(WANG),
        )
        assert for_someone_else.status_code == 403
        unknown_type = await ds.client.post(
            "/consents", json={"certificate_type": "passport"}, headers=citizen(WANG)
        )
        assert unknown_type.json()["errors"][0]["field"] == "certificate_type"
        unknown_member = await ds.client.post(
            "/consents", json={"certificate_type": "hukou", "consumer": "wc-x"}, headers=citizen(WANG)
        )
        assert unknown_member.json()["errors"][0]["field"] == "consumer"
        past = await ds.client.post(
            "/consents", json={"certificate_type": "hukou", "expires_on": "2000-01-01"}, headers=citizen(WANG)
        )
        assert past.json()["errors"][0]["field"] == "expires_on"
        by_department = await ds.client.post(
            "/consents", json={"certificate_type": "hukou"}, headers=department("wc-mzj", "datashare:read")
        )
        assert by_department.status_code == 403
        no_subject = await ds.client.post("/consents", json={"certificate_type": "hukou"}, headers=OPS)
        assert no_subject.json()["errors"][0]["field"] == "subject_id"
        bad_subject = await ds.client.post(
            "/consents", json={"certificate_type": "hukou", "subject_id": "123"}, headers=OPS
        )
        assert bad_subject.json()["errors"][0]["field"] == "subject_id"
        paper = await ds.client.post(
            "/consents", json={"certificate_type": "hukou", "subject_id": LI}, headers=OPS
        )
        assert paper.status_code == 201
        someone_elses = await ds.client.post(f"/consents/{paper.json()['id']}/revoke", headers=citizen(WANG))
        assert someone_elses.status_code == 404
        assert (await ds.client.post("/consents/nope/revoke", headers=citizen(NOBODY))).status_code == 404
        assert (await ds.client.get("/consents", headers=citizen(WANG))).json() == []
        listed_by_department = await ds.client.get(
            "/consents", headers=department("wc-mzj", "datashare:read")
        )
        assert listed_by_department.status_code == 403
        too_many = await ds.client.get("/consents", params={"limit": 0}, headers=citizen(WANG))
        assert too_many.json()["errors"][0]["field"] == "query.limit"
