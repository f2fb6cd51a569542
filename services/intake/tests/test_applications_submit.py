"""Submitting applications on real PostgreSQL and SQLite: online and at a window, enterprises, 代办, files."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from intake.settings import ApplicationOptions

from .applications_support import (
    ELDERLY_CARD,
    FIRM,
    LI,
    LICENCE,
    SUBSIDY,
    WANG,
    Intake,
    citizen,
    department,
    id_number,
    intake,
    operator,
    published,
    retired,
    window,
)

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def upload(
    t: Intake, headers: dict[str, str], content: bytes = PDF, kind: str = "application/pdf"
) -> Any:
    response = await t.client.post("/files", files={"file": ("材料.pdf", content, kind)}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def serving_ticket(t: Intake, window_code: str = "A01", number: str = WANG) -> str:
    """A hall with window `window_code`, and `number`'s ticket called there and being served."""
    hours = [{"kind": "regular", "start": "08:30", "end": "17:00"}]
    assert (
        await t.post("/halls", operator(), {"id": "hall", "name": "行政服务中心", "hours": hours})
    ).status_code == 201
    queue = {"code": "A", "name": "综合受理", "category": "综合", "is_default": True}
    assert (await t.post("/halls/hall/queues", operator(), queue)).status_code == 201
    desk = {"code": window_code, "name": "综合窗口", "kind": "comprehensive", "queues": ["A"]}
    assert (await t.post("/halls/hall/windows", operator(), desk)).status_code == 201
    body = {"hall_id": "hall", "queue_code": "A", "id_number": number, "channel": "guide_desk"}
    ticket = await t.post("/tickets", window(window_code), body)
    assert ticket.status_code == 201, ticket.text
    assert (await t.post(f"/windows/{window_code}/call-next", window(window_code), {})).status_code == 200
    started = await t.post(f"/tickets/{ticket.json()['id']}/start", window(window_code), {})
    assert started.json()["status"] == "serving", started.text
    return str(ticket.json()["id"])


async def test_a_complete_online_application_is_accepted_routed_and_replayed_once(db_url: str) -> None:
    async with intake(db_url) as t:
        form, income = await upload(t, citizen()), await upload(t, citizen())
        body = {
            "materials": [
                {"name": "居民户口簿", "evidence_ref": "ev-2f7c"},
                {"name": "养老服务补贴申请表", "file_id": form["id"]},
                {"name": "收入情况说明", "file_id": income["id"]},
            ],
            "applicant_phone": "13800000001",
            "delivery": {"method": "courier", "recipient_name": "王建国", "recipient_phone": "13800000001",
                         "address": "金华市婺城区宾虹路858号"},
        }  # fmt: skip
        key = {"Idempotency-Key": "app-k-1"}
        created = await t.apply({**citizen(), **key}, **body)
        assert created.status_code == 201, created.text
        application = created.json()
        assert (application["status"], application["channel"], application["promised_date"]) == (
            "accepted", "online", "2026-10-13",  # 5 working days after 09-30, National Day skipped, 10-10 worked
        )  # fmt: skip
        assert [m["status"] for m in application["materials"]] == ["identity", "datashare", "file", "file"]
        assert (application["one_certificate"], application["applicant_masked"]) == (
            False,
            "330702********0013",
        )
        [(kind, accepted)] = await t.events()
        assert kind == "intake.application.accepted"
        assert (accepted["handling_type"], accepted["deciding_level"], accepted["channel"]) == (
            "承诺件",
            "district",
            "online",
        )
        assert accepted["promised_date"] == "2026-10-13"
        files = {m["name"]: m for m in accepted["materials"]}
        assert files["养老服务补贴申请表"]["sha256"] == hashlib.sha256(PDF).hexdigest()
        assert (files["居民户口簿"]["status"], files["居民户口簿"]["evidence_ref"]) == (
            "datashare",
            "ev-2f7c",
        )

        again = await t.apply({**citizen(), **key}, **body)
        assert (again.status_code, again.json()["id"]) == (200, application["id"])
        other = await t.apply({**citizen(), **key}, **{**body, "applicant_phone": "13800000002"})
        assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
        assert (await t.count("application"), len(await t.events())) == (1, 1)

        path = f"/applications/{application['id']}"
        assert (await t.client.get(path, headers=citizen())).status_code == 200
        assert (await t.client.get(path, headers=citizen(LI, "李秀英"))).status_code == 404
        assert (await t.client.get(path, headers=department("wc-mzj"))).status_code == 200
        assert (await t.client.get(path, headers=department("wc-gafj"))).status_code == 404
        download = await t.client.get(f"{path}/files/{form['id']}", headers=department("wc-mzj"))
        assert (download.status_code, download.content, download.headers["content-type"]) == (
            200,
            PDF,
            "application/pdf",
        )
        assert (
            await t.client.get(f"{path}/files/{form['id']}", headers=citizen(LI, "李秀英"))
        ).status_code == 404
        notice = await t.client.get(f"{path}/notice", headers=citizen())
        assert notice.headers["content-type"].startswith("text/html")
        assert all(s in notice.text for s in ("受理通知书", "2026年10月13日", "@media print"))


async def test_a_window_completes_an_instant_item_for_the_ticket_it_serves(db_url: str) -> None:
    async with intake(db_url) as t:
        ticket = await serving_ticket(t)
        body = {"item_id": ELDERLY_CARD.item_id, "situation_code": "s1", "ticket_id": ticket}
        done = await t.apply(window(), **body)
        assert done.status_code == 201, done.text
        assert (done.json()["status"], done.json()["instant"], done.json()["channel"]) == (
            "delivered",
            True,
            "window",
        )
        assert [kind for kind, _ in await t.events()] == [
            "intake.application.completed"
        ]  # no back-office task
        finished = await t.post(f"/tickets/{ticket}/finish", window(), {"application_id": done.json()["id"]})
        assert finished.json()["application_id"] == done.json()["id"]
        # The ticket is done now: it cannot take another application.
        late = await t.apply(window(), **body)
        assert (late.status_code, late.json()["errors"][0]["field"]) == (422, "ticket_id")
        elsewhere = await t.apply(window("A02"), **{**body, "ticket_id": None, "situation_code": "s3"})
        assert (elsewhere.status_code, elsewhere.json()["code"]) == (422, "situation_required")


async def test_enterprises_apply_through_their_representative_and_agents_are_recorded(db_url: str) -> None:
    async with intake(db_url) as t:
        representative, agent = id_number("19780602", "015"), LI
        rules = await upload(t, window())
        body: dict[str, Any] = {
            "item_id": LICENCE.item_id,
            "applicant_kind": "enterprise",
            "applicant_id": FIRM,
            "applicant_name": "婺城区宏达建设工程有限公司",
            "legal_representative": "王立新",
            "legal_representative_id": representative,
            "agent": {"id_number": agent, "name": "李秀英", "phone": "13900000002"},
            "materials": [
                {"name": "营业执照", "evidence_ref": "ev-licence-1"},
                {"name": "食品安全管理制度", "file_id": rules["id"]},
            ],
        }
        created = await t.post("/applications", window(), body)
        assert created.status_code == 201, created.text
        assert (created.json()["status"], created.json()["applicant_kind"]) == ("accepted", "enterprise")
        [(_, accepted)] = await t.events()
        assert accepted["agent"] == {"id_number": agent, "name": "李秀英"}
        assert (accepted["applicant_id"], accepted["legal_representative"]) == (FIRM, "王立新")
        for who in (citizen(representative, "王立新"), citizen(agent, "李秀英")):
            mine = await t.client.get("/applications", headers=who)
            assert [a["case_number"] for a in mine.json()] == [created.json()["case_number"]]
        assert (await t.client.get("/applications", headers=citizen())).json() == []

        nobody = await t.post("/applications", window(), {**body, "legal_representative": None})
        assert (nobody.status_code, nobody.json()["errors"][0]["field"]) == (422, "legal_representative")
        bad_code = await t.post("/applications", window(), {**body, "applicant_id": FIRM[:-1] + "0"})
        assert (bad_code.status_code, bad_code.json()["errors"][0]["field"]) == (422, "applicant_id")
        by_citizen = await t.post("/applications", citizen(representative, "王立新"), body)
        assert by_citizen.status_code == 403  # 代办 goes through a window
        assert await t.count("application") == 1


async def test_bad_input_is_refused_whole_with_nothing_written(db_url: str) -> None:
    async with intake(db_url) as t:
        mine = await upload(t, citizen(LI, "李秀英"))
        cases: list[tuple[dict[str, Any], int, str, str]] = [
            ({"item_id": "wc-nope"}, 422, "unknown_item", "item_id"),
            ({"item_version": 7}, 422, "unknown_item_version", "item_version"),
            ({"applicant_id": "330702195003150012"}, 422, "validation_failed", "applicant_id"),
            (
                {"materials": [{"name": "结婚证", "evidence_ref": "x"}]},
                422,
                "unknown_material",
                "materials.0.name",
            ),
            (
                {"materials": [{"name": "收入情况说明", "file_id": mine["id"]}]},
                422,
                "unknown_file",
                "materials.0.file_id",
            ),
            ({"materials": [{"name": "收入情况说明"}]}, 422, "validation_failed", "materials.0"),
            ({"item_id": ELDERLY_CARD.item_id}, 422, "situation_required", "situation_code"),
            ({"precheck_id": "0" * 32}, 422, "precheck_mismatch", "precheck_id"),
        ]
        for changes, code, problem, field in cases:
            response = await t.apply(citizen(), **changes)
            assert (response.status_code, response.json()["code"]) == (code, problem), (
                changes,
                response.text,
            )
            assert response.json()["errors"][0]["field"] == field, response.text
        # A retired version, and an item retired without successor.
        await t.handle(published(SUBSIDY.model_copy(update={"version": 2})))
        await t.handle(retired(SUBSIDY.item_id, 1, SUBSIDY.effective_from))
        old = await t.apply(citizen(), item_version=1)
        assert (old.status_code, old.json()["code"]) == (422, "item_version_retired")
        await t.handle(retired(ELDERLY_CARD.item_id, 1, ELDERLY_CARD.effective_from))
        gone = await t.apply(citizen(), item_id=ELDERLY_CARD.item_id, situation_code="s1")
        assert (gone.status_code, gone.json()["code"]) == (422, "item_retired")
        assert [await t.count(n) for n in ("application", "status_change", "output", "case_serial")] == [
            0
        ] * 4
        assert await t.events() == []


async def test_item_versions_are_reused_for_seconds_at_most(db_url: str) -> None:
    async with intake(db_url, ApplicationOptions(item_cache_s=0.5)) as t:
        body = {"item_id": ELDERLY_CARD.item_id, "situation_code": "s1"}
        assert (await t.apply(citizen(), **body)).status_code == 201
        await t.handle(retired(ELDERLY_CARD.item_id, 1, ELDERLY_CARD.effective_from))
        # Within the cache's seconds the retirement is as if its event were still on its way.
        assert (await t.apply(citizen(), **body)).status_code == 201
        await asyncio.sleep(0.6)
        gone = await t.apply(citizen(), **body)
        assert (gone.status_code, gone.json()["code"]) == (422, "item_retired")
