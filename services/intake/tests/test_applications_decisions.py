"""Intake decisions on real PostgreSQL and SQLite: 一次性告知, 不予受理, 容缺受理 kept and broken."""

from __future__ import annotations

from datetime import date

from intake.applications.seed import load_demo_bad_credit

from .applications_support import BAD, LI, SUBSIDY, WANG, citizen, intake, operator, window
from .test_applications_submit import upload

FORM, INCOME = "养老服务补贴申请表", "收入情况说明"


async def test_online_gaps_are_told_at_once_and_a_window_decides_what_waits(db_url: str) -> None:
    async with intake(db_url) as t:
        online = await t.apply(citizen())
        assert (online.status_code, online.json()["status"]) == (201, "returned")
        assert online.json()["missing"] == ["居民户口簿", FORM, INCOME]
        [(kind, told)] = await t.events()
        assert (kind, told["materials"], told["item_id"]) == (
            "intake.application.returned",
            ["居民户口簿", FORM, INCOME],
            SUBSIDY.item_id,
        )
        notice = await t.client.get(f"/applications/{online.json()['id']}/notice", headers=citizen())
        assert all(s in notice.text for s in ("一次性告知书", f"{INCOME}的填写样稿"))

        waiting = await t.apply(window(), applicant_id=LI, applicant_name="李秀英")
        assert (waiting.status_code, waiting.json()["status"]) == (201, "submitted")
        path = f"/applications/{waiting.json()['id']}"
        assert (await t.client.get(f"{path}/notice", headers=window())).status_code == 409
        early = await t.post(f"{path}/decision", window(), {"kind": "accept"})
        assert (early.status_code, early.json()["code"]) == (409, "materials_missing")
        by_citizen = await t.post(f"{path}/decision", citizen(LI, "李秀英"), {"kind": "accept"})
        assert by_citizen.status_code == 403
        refused = await t.post(
            f"{path}/decision", window(), {"kind": "refuse", "reason": "申请人不属于经济困难老年人"}
        )
        assert (refused.status_code, refused.json()["status"]) == (200, "refused")
        again = await t.post(f"{path}/decision", window(), {"kind": "return"})
        assert (again.status_code, again.json()["errors"][0]["rule"]) == (409, "submitted")
        refusal = (await t.client.get(f"{path}/notice", headers=window())).text
        assert all(s in refusal for s in ("不予受理通知书", "行政复议"))
        assert [kind for kind, _ in await t.events()] == [
            "intake.application.returned",
            "intake.application.refused",
        ]

        # Handed in later at the window, then accepted.
        third = (await t.apply(window(), applicant_id=LI, applicant_name="李秀英")).json()
        files = [await upload(t, window()) for _ in range(2)]
        given = [
            {"name": "居民户口簿", "evidence_ref": "ev-hukou"},
            {"name": FORM, "file_id": files[0]["id"]},
            {"name": INCOME, "file_id": files[1]["id"]},
        ]
        supplied = await t.post(f"/applications/{third['id']}/materials", window(), {"materials": given})
        assert (supplied.status_code, supplied.json()["missing"]) == (200, [])
        accepted = await t.post(f"/applications/{third['id']}/decision", window(), {"kind": "accept"})
        assert (accepted.json()["status"], accepted.json()["promised_date"]) == ("accepted", "2026-10-13")


async def test_rongque_accepted_then_supplied_in_time(db_url: str) -> None:
    async with intake(db_url) as t:
        promise = {"signed_name": "王建国", "working_days": 3}
        hukou = [{"name": "居民户口簿", "evidence_ref": "ev-hukou"}]
        accepted = await t.apply(citizen(), materials=hukou, rongque=promise)
        assert accepted.status_code == 201, accepted.text
        body = accepted.json()
        assert (body["status"], body["rongque"], body["missing"]) == ("accepted", True, [FORM, INCOME])
        assert body["rongque_deadline"] == "2026-10-10"  # 3 working days: 10-08, 10-09, the 调休 Saturday
        [(_, event)] = await t.events()
        assert (event["rongque"], event["rongque_materials"], event["rongque_due_date"]) == (
            True,
            [FORM, INCOME],
            "2026-10-10",
        )
        notice = (await t.client.get(f"/applications/{body['id']}/notice", headers=citizen())).text
        assert all(s in notice for s in ("容缺受理通知书", "承诺人（签名）：王建国", "2026年10月10日"))

        t.clock.set(date(2026, 10, 9))
        form = await upload(t, citizen())
        path = f"/applications/{body['id']}/materials"
        first = await t.post(path, citizen(), {"materials": [{"name": FORM, "file_id": form["id"]}]})
        assert (first.status_code, first.json()["missing"]) == (200, [INCOME])
        wrong = await t.post(
            path, citizen(), {"materials": [{"name": "居民户口簿", "evidence_ref": "again"}]}
        )
        assert (wrong.status_code, wrong.json()["errors"][0]["field"]) == (422, "materials.0.name")
        income = await upload(t, citizen())
        done = await t.post(path, citizen(), {"materials": [{"name": INCOME, "file_id": income["id"]}]})
        assert [m["status"] for m in done.json()["materials"]] == [
            "identity",
            "datashare",
            "supplied",
            "supplied",
        ]
        kinds = [kind for kind, _ in await t.events()]
        assert kinds == ["intake.application.accepted", "intake.rongque.fulfilled"]
        t.clock.set(date(2026, 10, 20))
        swept = await t.post("/rongque/sweep", operator())
        assert swept.json() == {"warned": 0, "terminated": 0}


async def test_an_unmet_rongque_deadline_is_warned_then_terminates_the_case(db_url: str) -> None:
    async with intake(db_url) as t:
        hukou = [{"name": "居民户口簿", "evidence_ref": "ev-hukou"}]
        body = (
            await t.apply(citizen(), materials=hukou, rongque={"signed_name": "王建国", "working_days": 3})
        ).json()
        t.clock.set(date(2026, 10, 8))  # two working days before 10-10: nothing yet
        assert (await t.post("/rongque/sweep", operator())).json() == {"warned": 0, "terminated": 0}
        t.clock.set(date(2026, 10, 9))  # the working day before
        assert (await t.post("/rongque/sweep", operator())).json() == {"warned": 1, "terminated": 0}
        assert (await t.post("/rongque/sweep", operator())).json() == {"warned": 0, "terminated": 0}
        t.clock.set(date(2026, 10, 12))
        assert (await t.post("/rongque/sweep", operator())).json() == {"warned": 0, "terminated": 1}
        events = await t.events()
        assert [kind for kind, _ in events] == [
            "intake.application.accepted",
            "intake.rongque.deadline_warned",
            "intake.application.terminated",
        ]
        warned = events[1][1]
        assert (warned["due_date"], warned["materials"], warned["applicant_id"]) == (
            "2026-10-10",
            [FORM, INCOME],
            WANG,
        )
        application = (await t.client.get(f"/applications/{body['id']}", headers=citizen())).json()
        assert application["status"] == "terminated"
        late = await t.post(
            f"/applications/{body['id']}/materials",
            citizen(),
            {"materials": [{"name": FORM, "evidence_ref": "x"}]},
        )
        assert (late.status_code, late.json()["code"]) == (409, "application_state")
        assert (await t.post("/rongque/sweep", window())).status_code == 403


async def test_rongque_is_refused_for_key_materials_and_the_bad_credit_list(db_url: str) -> None:
    async with intake(db_url) as t:
        assert await load_demo_bad_credit(t.app.state.sessions, date(2026, 1, 1)) == 2
        assert await load_demo_bad_credit(t.app.state.sessions, date(2026, 1, 1)) == 0
        promise = {"signed_name": "赵四"}
        listed = await t.apply(
            window(),
            applicant_id=BAD,
            applicant_name="赵四",
            materials=[{"name": "居民户口簿", "evidence_ref": "e"}],
            rongque=promise,
        )
        assert (listed.status_code, listed.json()["code"]) == (409, "rongque_refused_bad_credit")
        assert listed.json()["errors"][0]["field"] == "applicant_id"
        # 居民户口簿 is required and not 容缺-able.
        key = await t.apply(citizen(), rongque={"signed_name": "王建国"})
        assert (key.status_code, key.json()["code"]) == (422, "rongque_not_allowed")
        assert "居民户口簿" in key.json()["detail"]
        assert [await t.count(n) for n in ("application", "rongque_promise", "status_change")] == [0, 0, 0]
        assert await t.events() == []
