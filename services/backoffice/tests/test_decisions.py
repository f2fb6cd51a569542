"""Decisions, 补正 and special steps, extensions and 联办件, with the audit trail and events they leave."""

from __future__ import annotations

from typing import Any

from servicekit.testing import OPERATOR

from .support import (
    APPLICANT,
    MZJ,
    MZJ_2,
    RSJ,
    Clock,
    accepted,
    at,
    backoffice,
    caller,
    deliver,
    item_published,
    published,
)

BUZHENG = {
    "materials": ["户口簿首页及本人页复印件"],
    "reason": "户口簿复印件不清晰",
    "due_date": "2025-10-20",
}


async def test_buzheng_moves_the_deadline_by_the_working_days_suspended_then_approval_issues_a_certificate(
    db_url: str,
) -> None:
    clock = Clock(at("2025-09-26"))
    async with backoffice(db_url, clock) as (app, client):
        await deliver(app, item_published(), accepted("app-000001"))
        officer = caller(MZJ)
        task = (await client.get("/applications/app-000001/task", headers=officer)).json()
        url = f"/tasks/{task['id']}"
        assert task["deadline_date"] == "2025-10-10"
        await client.post(f"{url}/claim", headers=officer)
        clock.set("2025-10-09")
        late = await client.post(
            f"{url}/buzheng", json={**BUZHENG, "due_date": "2025-10-09"}, headers=officer
        )
        assert (late.status_code, late.json()["errors"][0]["field"]) == (422, "due_date")
        stopped = await client.post(f"{url}/buzheng", json=BUZHENG, headers=officer)
        assert stopped.json()["status"] == "suspended", stopped.text
        assert (await client.post(f"{url}/buzheng", json=BUZHENG, headers=officer)).json()[
            "code"
        ] == "already_suspended"
        refused = await client.post(f"{url}/approve", json={}, headers=officer)
        assert (refused.status_code, refused.json()["code"]) == (409, "task_suspended")
        clock.set("2025-10-13")  # Fri 10-10, the 调休 Saturday 10-11 and Mon 10-13: three working days
        resumed = (
            await client.post(f"{url}/resume", json={"note": "补正材料已收到"}, headers=officer)
        ).json()
        assert (resumed["deadline_date"], resumed["suspended_days"]) == ("2025-10-14", 3)
        assert resumed["suspensions"][0]["days"] == 3
        assert (await client.post(f"{url}/resume", json={}, headers=officer)).json()[
            "code"
        ] == "not_suspended"
        clock.set("2025-10-14", 16)
        someone_else = await client.post(f"{url}/approve", json={}, headers=caller(MZJ_2))
        assert (someone_else.status_code, someone_else.json()["code"]) == (409, "claimed_by_other")
        past = await client.post(f"{url}/approve", json={"valid_until": "2025-10-01"}, headers=officer)
        assert (past.status_code, past.json()["errors"][0]["field"]) == (422, "valid_until")
        approved = await client.post(f"{url}/approve", json={"valid_until": "2030-10-13"}, headers=officer)
        decided = approved.json()
        assert (decided["status"], decided["decision"], decided["on_time"], decided["days_used"]) == (
            "decided",
            "approved",
            True,
            5,  # 8 working days from acceptance to decision, 3 of them suspended
        )
        assert decided["certificate_number"] == "3307022025ELDERLYCARD000001"
        await deliver(app, accepted("app-000002"))
        other = (await client.get("/applications/app-000002/task", headers=officer)).json()["id"]
        taken = {"certificate_number": "3307022025ELDERLYCARD000001"}
        reused = await client.post(f"/tasks/{other}/approve", json=taken, headers=officer)
        assert (reused.status_code, reused.json()["code"]) == (409, "certificate_number_taken")
        twice = await client.post(f"{url}/approve", json={}, headers=officer)
        assert (twice.status_code, twice.json()["code"]) == (409, "already_decided")
        rejected = await client.post(f"{url}/reject", json={"reason": "不符合条件"}, headers=officer)
        assert (rejected.status_code, rejected.json()["code"]) == (409, "already_decided")
        finished = await client.post(
            f"{url}/buzheng", json={**BUZHENG, "due_date": "2025-11-01"}, headers=officer
        )
        assert (finished.status_code, finished.json()["code"]) == (409, "task_finished")
        assert (await client.get(url, headers=officer)).json()["certificate_number"] == decided[
            "certificate_number"
        ]
        [decision] = await published(app, "backoffice.task.decided")
        assert {
            k: decision[k] for k in ("certificate_type", "certificate_number", "subject_id", "valid_until")
        } == {
            "certificate_type": "elderly_card",
            "certificate_number": "3307022025ELDERLYCARD000001",
            "subject_id": APPLICANT,
            "valid_until": "2030-10-13",
        }
        assert (decision["decision"], decision["actor"]) == ("approved", "mzj-li")
        trail = (await client.get(f"{url}/audit", headers=officer)).json()
        assert [(e["action"], e["actor"]) for e in trail] == [
            ("received", "backoffice"),
            ("claimed", "mzj-li"),
            ("suspended_buzheng", "mzj-li"),
            ("resumed", "mzj-li"),
            ("approved", "mzj-li"),
        ]
        assert trail[2]["details"]["materials"] == BUZHENG["materials"]
        assert [e["type"] for e in await published(app)] == [
            "backoffice.task.received",
            "backoffice.task.suspended",
            "backoffice.task.resumed",
            "backoffice.task.decided",
            "backoffice.task.received",  # app-000002, whose approval was refused
        ]


async def test_rejection_special_steps_extensions_and_other_departments(db_url: str) -> None:
    clock = Clock(at("2025-09-26"))
    async with backoffice(db_url, clock) as (app, client):
        await deliver(app, item_published(), accepted("app-000001"))
        officer = caller(MZJ)
        url = f"/tasks/{(await client.get('/applications/app-000001/task', headers=officer)).json()['id']}"
        assert (
            await client.post(f"{url}/reject", json={"reason": "不符合条件"}, headers=caller(RSJ))
        ).status_code == 404
        counted = {"step_name": "审核", "reason": "专家评审"}
        not_special = await client.post(f"{url}/special-step", json=counted, headers=officer)
        assert (not_special.status_code, not_special.json()["errors"][0]["rule"]) == (422, "special_step")
        publicity = {"step_name": "公示", "reason": "公示五个工作日"}
        assert (await client.post(f"{url}/special-step", json=publicity, headers=officer)).json()[
            "status"
        ] == "suspended"
        clock.set("2025-10-09")  # 9-28 (调休), 9-29, 9-30 and 10-09: four working days of 公示
        assert (await client.post(f"{url}/resume", json={}, headers=officer)).json()[
            "deadline_date"
        ] == "2025-10-15"
        too_long = await client.post(
            f"{url}/extend", json={"days": 16, "reason": "需现场核查"}, headers=officer
        )
        assert (too_long.status_code, too_long.json()["errors"][0]["rule"]) == (422, "within_legal_limit")
        extended = await client.post(
            f"{url}/extend", json={"days": 10, "reason": "需现场核查"}, headers=officer
        )
        assert (extended.json()["deadline_date"], extended.json()["extended_days"]) == ("2025-10-29", 10)
        more = await client.post(f"{url}/extend", json={"days": 6, "reason": "再次延期"}, headers=officer)
        assert more.status_code == 422
        empty = await client.post(f"{url}/reject", json={}, headers=officer)
        assert (empty.status_code, empty.json()["errors"][0]["field"]) == (422, "reason")
        rejected = (
            await client.post(f"{url}/reject", json={"reason": "申请人不符合条件"}, headers=officer)
        ).json()
        assert (rejected["decision"], rejected["certificate_number"]) == ("rejected", None)
        assert "行政复议" in rejected["appeal_rights"]
        [decision] = await published(app, "backoffice.task.decided")
        assert (decision["decision"], decision["reason"], decision["certificate_number"]) == (
            "rejected",
            "申请人不符合条件",
            None,
        )


async def test_a_joint_case_waits_for_both_assisting_departments(db_url: str) -> None:
    clock = Clock(at("2025-09-26"))
    gafj = caller(RSJ.__class__(**{**RSJ.__dict__, "client_id": "dept-wc-gafj", "department": "wc-gafj"}))
    async with backoffice(db_url, clock) as (app, client):
        joint = item_published(
            "wc-mzj-yzdb",
            name="养老机构设立备案",
            handling_type="联办件",
            joint_departments=["wc-rsj", "wc-gafj"],
            result_certificate_type=None,
        )
        await deliver(app, joint, accepted("app-000001", item_id="wc-mzj-yzdb"))
        lead = caller(MZJ)
        url = f"/tasks/{(await client.get('/applications/app-000001/task', headers=lead)).json()['id']}"
        subtasks: list[dict[str, Any]] = (await client.get(url, headers=lead)).json()["subtasks"]
        assert sorted((s["department_code"], s["due_date"]) for s in subtasks) == [
            ("wc-gafj", "2025-10-09"),
            ("wc-rsj", "2025-10-09"),
        ]
        waiting = await client.post(f"{url}/approve", json={}, headers=lead)
        assert waiting.status_code == 409
        assert waiting.json()["errors"][0]["rule"] == "assisting_departments_first"
        assert "wc-gafj, wc-rsj" in waiting.json()["detail"]
        rsj_list = (
            await client.get("/subtasks", params={"department_code": "wc-rsj"}, headers=caller(RSJ))
        ).json()
        assert rsj_list["total"] == 1
        assert (
            await client.get("/subtasks", params={"department_code": "wc-rsj"}, headers=lead)
        ).status_code == 403
        opinion = {"conclusion": "agree", "opinion": "经核查无异议"}
        rsj_sub = rsj_list["subtasks"][0]["id"]
        assert (
            await client.post(f"/subtasks/{rsj_sub}/complete", json=opinion, headers=gafj)
        ).status_code == 404
        assert (
            await client.post(f"/subtasks/{rsj_sub}/complete", json=opinion, headers=caller(RSJ))
        ).status_code == 200
        again = await client.post(f"/subtasks/{rsj_sub}/complete", json=opinion, headers=caller(RSJ))
        assert (again.status_code, again.json()["code"]) == (409, "already_completed")
        bad = await client.post(
            f"/subtasks/{rsj_sub}/complete", json={"conclusion": "maybe"}, headers=caller(RSJ)
        )
        assert bad.status_code == 422
        assert (await client.post(f"{url}/approve", json={}, headers=lead)).status_code == 409
        gafj_sub = next(s["id"] for s in subtasks if s["department_code"] == "wc-gafj")
        await client.post(f"/subtasks/{gafj_sub}/complete", json=opinion, headers=gafj)
        certificate = await client.post(f"{url}/approve", json={"certificate_number": "X-0001"}, headers=lead)
        assert certificate.json()["errors"][0]["rule"] == "item_issues_no_certificate"
        approved = (await client.post(f"{url}/approve", json={}, headers=lead)).json()
        assert (approved["decision"], approved["certificate_number"]) == ("approved", None)
        done = await published(app, "backoffice.subtask.completed")
        assert [(e["department_code"], e["remaining"]) for e in done] == [("wc-rsj", 1), ("wc-gafj", 0)]
        trail = (await client.get(f"{url}/audit", headers=caller(OPERATOR))).json()
        assert [(e["action"], e["department_code"]) for e in trail][1:] == [
            ("subtask_completed", "wc-rsj"),
            ("subtask_completed", "wc-gafj"),
            ("approved", "wc-mzj"),
        ]
