"""补正 never supplied: the sweep ends the case (terminated), with its event and audit trail; the
worker's (and the embedded platform's) periodic sweep does it on its own."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from backoffice.deadlines import CHINA, utc_now
from backoffice.supervision import sweep
from backoffice.worker import embedded_tasks
from contracts.envelope import Event, new_event
from contracts.intake import ApplicationTerminated
from servicekit.testing import OPERATOR

from .support import RSJ, Clock, accepted, at, backoffice, caller, deliver, item_published, published

BUZHENG = {"materials": ["户口簿复印件", "近期照片"], "reason": "材料不清晰", "due_date": "2025-10-15"}


async def test_a_buzheng_not_supplied_by_its_due_date_terminates_the_case(db_url: str) -> None:
    clock = Clock(at("2025-09-26"))
    async with backoffice(db_url, clock) as (app, client):
        joint = item_published("wc-mzj-yzdb", handling_type="联办件", joint_departments=["wc-rsj"])
        await deliver(app, item_published(), joint)
        await deliver(app, accepted("app-000001", item_id="wc-mzj-yzdb"), accepted("app-000002"))
        officer = caller(OPERATOR)
        lapsing = (await client.get("/applications/app-000001/task", headers=officer)).json()["id"]
        supplied = (await client.get("/applications/app-000002/task", headers=officer)).json()["id"]
        clock.set("2025-10-09")
        for task_id in (lapsing, supplied):
            stopped = await client.post(f"/tasks/{task_id}/buzheng", json=BUZHENG, headers=officer)
            assert stopped.json()["status"] == "suspended", stopped.text
        clock.set("2025-10-14")
        assert (await client.post(f"/tasks/{supplied}/resume", json={}, headers=officer)).status_code == 200

        async def run(day: str) -> int:
            async with app.state.sessions() as session:
                return (await sweep(session, date.fromisoformat(day), 2)).terminated

        assert await run("2025-10-15") == 0  # the due date itself still counts
        events_before = len(await published(app))
        assert await run("2025-10-16") == 1
        task = (await client.get(f"/tasks/{lapsing}", headers=officer)).json()
        assert (task["status"], task["decision"], task["on_time"]) == ("terminated", "terminated", None)
        assert "2025年10月15日" in task["decision_reason"]
        assert "户口簿复印件、近期照片" in task["decision_reason"]
        assert (task["suspensions"][0]["ended_by"], task["suspensions"][0]["days"]) == ("backoffice", 6)
        assert [(s["department_code"], s["status"]) for s in task["subtasks"]] == [("wc-rsj", "cancelled")]
        assert (await client.get(f"/tasks/{supplied}", headers=officer)).json()["status"] == "received"

        events = [e for e in (await published(app))[events_before:] if e["application_id"] == "app-000001"]
        assert [e["type"] for e in events] == ["backoffice.task.decided"]
        decided = events[0]
        assert (decided["decision"], decided["reason"], decided["actor"]) == (
            "terminated",
            task["decision_reason"],
            "backoffice",
        )
        assert (decided["certificate_number"], decided["result_name"]) == (None, None)
        assert "行政复议" in decided["appeal_rights"]
        trail = (await client.get(f"/tasks/{lapsing}/audit", headers=officer)).json()
        assert [(e["action"], e["actor"]) for e in trail][-2:] == [
            ("suspended_buzheng", "operator"),
            ("terminated", "backoffice"),
        ]
        assert trail[-1]["details"]["cancelled_subtasks"] == ["wc-rsj"]

        # A finished case refuses everything, and the refusals change nothing.
        events_after = len(await published(app))
        clock.set("2025-10-16", 11)
        resumed = await client.post(f"/tasks/{lapsing}/resume", json={}, headers=officer)
        assert (resumed.status_code, resumed.json()["code"]) == (409, "not_suspended")
        approved = await client.post(f"/tasks/{lapsing}/approve", json={}, headers=officer)
        assert (approved.status_code, approved.json()["code"]) == (409, "task_finished")
        opinion = {"conclusion": "agree", "opinion": "无异议"}
        sub = task["subtasks"][0]["id"]
        late = await client.post(f"/subtasks/{sub}/complete", json=opinion, headers=caller(RSJ))
        assert (late.status_code, late.json()["code"]) == (409, "task_finished")
        assert (await client.get(f"/tasks/{lapsing}", headers=officer)).json() == task
        assert len(await published(app)) == events_after
        assert await run("2025-10-17") == 0  # once
        # Not chased afterwards: the 督查 sweep escalates running cases only.
        async with app.state.sessions() as session:
            await sweep(session, date(2025, 11, 20), 2)
        escalated = await published(app, "backoffice.task.escalated")
        assert [e["application_id"] for e in escalated] == ["app-000002"]
        listed = await client.get(
            "/tasks", params={"department_code": "wc-mzj", "status": "terminated"}, headers=officer
        )
        assert [t["id"] for t in listed.json()["tasks"]] == [lapsing]


async def test_the_periodic_sweep_of_the_worker_and_the_embedded_platform_ends_a_lapsed_case(
    db_url: str,
) -> None:
    """`embedded_tasks` is what both run (the embedded platform directly, the worker with its own
    interval): the real clock, a 补正 that was due yesterday."""
    today = utc_now().astimezone(CHINA).date()
    clock = Clock(at((today - timedelta(days=20)).isoformat()))
    async with backoffice(db_url, clock) as (app, client):
        await deliver(app, item_published(), accepted("app-000001", accepted_at=clock.now))
        task_id = (await client.get("/applications/app-000001/task", headers=caller(OPERATOR))).json()["id"]
        clock.set((today - timedelta(days=10)).isoformat())
        due = {**BUZHENG, "due_date": (today - timedelta(days=1)).isoformat()}
        assert (await client.post(f"/tasks/{task_id}/buzheng", json=due, headers=caller(OPERATOR))).is_success
        stop = asyncio.Event()
        jobs = [asyncio.create_task(job) for job in embedded_tasks(app, stop)]
        try:
            for _ in range(100):
                task = (await client.get(f"/tasks/{task_id}", headers=caller(OPERATOR))).json()
                if task["status"] != "suspended":
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*jobs), 10)
        assert (task["status"], task["decision"]) == ("terminated", "terminated")
        [decided] = await published(app, "backoffice.task.decided")
        assert decided["decision"] == "terminated"


def rongque_terminated(application_id: str) -> Event:
    data = ApplicationTerminated(
        application_id=application_id,
        case_number=f"CASE-{application_id}",
        department_code="wc-mzj",
        applicant_id="330702195003150013",
        materials=["户口簿原件"],
        due_date=date(2025, 10, 10),
        terminated_at=at("2025-10-11"),
    )
    return new_event(
        type="intake.application.terminated", source="/intake", subject=application_id, data=data
    )


async def test_a_rongque_case_terminated_by_intake_ends_its_task_and_a_decided_one_stays(db_url: str) -> None:
    clock = Clock(at("2025-09-26"))
    async with backoffice(db_url, clock) as (app, client):
        await deliver(app, item_published(), accepted("app-000001"), accepted("app-000002"))
        officer = caller(OPERATOR)
        ended = (await client.get("/applications/app-000001/task", headers=officer)).json()["id"]
        kept = (await client.get("/applications/app-000002/task", headers=officer)).json()["id"]
        clock.set("2025-09-29")
        assert (await client.post(f"/tasks/{kept}/approve", json={}, headers=officer)).status_code == 200
        events_before = len(await published(app))
        await deliver(app, rongque_terminated("app-000001"), rongque_terminated("app-000002"))
        await deliver(app, rongque_terminated("app-000001"))  # a redelivery changes nothing more
        task = (await client.get(f"/tasks/{ended}", headers=officer)).json()
        assert (task["status"], task["decision"], task["on_time"]) == ("terminated", "terminated", None)
        assert "2025年10月10日" in task["decision_reason"]
        assert "户口簿原件" in task["decision_reason"]
        trail = (await client.get(f"/tasks/{ended}/audit", headers=officer)).json()
        assert [(e["action"], e["actor"]) for e in trail].count(("terminated", "backoffice")) == 1
        assert (await client.get(f"/tasks/{kept}", headers=officer)).json()["decision"] == "approved"
        assert (
            len(await published(app)) == events_before
        )  # intake already closed the case and told the applicant
        refused = await client.post(f"/tasks/{ended}/approve", json={}, headers=officer)
        assert (refused.status_code, refused.json()["code"]) == (409, "task_finished")
