"""Tasks from intake's events, worklists, claims and transfers, on real PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backoffice import worklist
from backoffice.handlers import SUBSCRIPTIONS
from backoffice.models import Subtask, Task
from messaging.consumer import EventConsumer, RetryPolicy
from messaging.inprocess import InProcessBroker
from messaging.records import Record, encode
from servicekit.identity import Identity
from servicekit.testing import OPERATOR

from .support import (
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


async def test_an_application_accepted_before_national_day_gets_its_working_day_deadline(db_url: str) -> None:
    clock = Clock(at("2025-09-26"))
    async with backoffice(db_url, clock) as (app, client):
        five = item_published()
        six = item_published("wc-mzj-gltx", promised_limit_days=6, name="高龄津贴申领")
        await deliver(app, five, six, accepted("app-000001"), accepted("app-000002", item_id="wc-mzj-gltx"))
        await deliver(app, accepted("app-000001"))  # re-sent under a new event id: nothing new
        page = (await client.get("/tasks", params={"department_code": "wc-mzj"}, headers=caller(MZJ))).json()
        assert page["total"] == 2
        assert [(t["application_id"], t["deadline_date"]) for t in page["tasks"]] == [
            ("app-000001", "2025-10-10"),
            ("app-000002", "2025-10-11"),  # the 调休 Saturday
        ]
        task = (await client.get(f"/tasks/{page['tasks'][0]['id']}", headers=caller(MZJ))).json()
        assert (task["applicant_id"], task["limit_days"], task["certificate_type"]) == (
            "330702195003150013",
            5,
            "elderly_card",
        )
        assert [s["name"] for s in task["steps"] if not s["counts_toward_limit"]] == ["公示"]
        received = await published(app, "backoffice.task.received")
        assert [e["deadline_date"] for e in received] == ["2025-10-10", "2025-10-11"]


async def test_an_application_for_an_unknown_item_version_is_retried_then_dead_lettered(db_url: str) -> None:
    async with backoffice(db_url, Clock(at("2025-09-26"))) as (app, _client):
        broker = InProcessBroker()
        applications = SUBSCRIPTIONS[0]
        consumer = EventConsumer(
            applications.group,
            broker.subscription(applications.group, applications.topics),
            app.state.sessions,
            applications.handlers,
            broker.producer(),
            retry=RetryPolicy(attempts=3, first_delay_s=0.01),
        )
        await consumer.subscription.start()
        value, headers = encode(accepted("app-000009", version=7))
        record = Record(topic="intake.applications", key=b"app-000009", value=value, headers=headers)
        await broker.append([record])
        await consumer.run_batch(timeout_s=0.1)
        [dead] = broker.logs["intake.applications.dlq"]
        assert "unknown item version" in (dead.header("dlq_error") or "")
        assert dead.header("dlq_attempts") == "3"
        async with app.state.engine.connect() as conn:
            assert await conn.scalar(sa.select(sa.func.count()).select_from(Task)) == 0
        # Once the catalogue caught up, replaying the dead letter creates the task.
        await deliver(app, item_published(version=7))
        await broker.append(
            [Record(topic="intake.applications", key=dead.key, value=dead.value, headers=headers)]
        )
        await consumer.run_batch(timeout_s=0.1)
        async with app.state.engine.connect() as conn:
            assert await conn.scalar(sa.select(Task.item_version)) == 7


async def test_worklists_filter_and_sort_and_each_department_sees_only_its_own(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(at("2025-10-09"))
    async with backoffice(db_url, clock) as (app, client):
        await deliver(app, item_published(), item_published("wc-mzj-gltx", promised_limit_days=1))
        await deliver(app, item_published("wc-rsj-sbk", department_code="wc-rsj", name="社会保障卡申领"))
        await deliver(
            app,
            accepted("app-000001", accepted_at=at("2025-09-29")),  # due 10-13
            accepted("app-000002", item_id="wc-mzj-gltx", accepted_at=at("2025-09-29")),  # due 9-30: late
            accepted("app-000003", accepted_at=at("2025-10-09")),  # due 10-15
            accepted("app-000004", item_id="wc-rsj-sbk", department="wc-rsj"),
        )
        mine = caller(MZJ)

        async def ids(**params: str | int) -> list[str]:
            response = await client.get(
                "/tasks", params={"department_code": "wc-mzj", **params}, headers=mine
            )
            assert response.status_code == 200, response.text
            return [t["application_id"] for t in response.json()["tasks"]]

        assert await ids() == ["app-000002", "app-000001", "app-000003"]
        assert await ids(sort="-deadline") == ["app-000003", "app-000001", "app-000002"]
        assert await ids(overdue=True) == ["app-000002"]
        assert await ids(item_id="wc-mzj-lnyd", due_before="2025-10-13") == ["app-000001"]
        assert await ids(limit=1, offset=1) == ["app-000001"]
        monkeypatch.setattr(worklist, "COUNT_CAP", 2)  # counting stops at the cap: "2+"
        capped = await client.get("/tasks", params={"department_code": "wc-mzj"}, headers=mine)
        assert (capped.json()["total"], capped.json()["total_exact"], len(capped.json()["tasks"])) == (
            2,
            False,
            3,
        )
        monkeypatch.undo()
        first = (await client.get("/applications/app-000003/task", headers=mine)).json()["id"]
        assert (await client.post(f"/tasks/{first}/claim", headers=mine)).json()["assignee"] == "mzj-li"
        assert await ids(mine=True) == ["app-000003"]
        assert await ids(unassigned=True) == ["app-000002", "app-000001"]
        assert await ids(assignee="mzj-li", status="received") == ["app-000003"]
        # Another department's list is refused; its task answers like a missing one.
        other = await client.get("/tasks", params={"department_code": "wc-rsj"}, headers=mine)
        assert (other.status_code, other.json()["code"]) == (403, "forbidden")
        rsj_task = (await client.get("/applications/app-000004/task", headers=caller(RSJ))).json()["id"]
        assert (await client.get(f"/tasks/{rsj_task}", headers=mine)).status_code == 404
        assert (await client.get("/applications/app-000004/task", headers=mine)).status_code == 404
        assert (await client.get(f"/tasks/{rsj_task}/audit", headers=mine)).status_code == 404
        everyone = await client.get("/tasks", params={"department_code": "wc-rsj"}, headers=caller(OPERATOR))
        assert everyone.json()["total"] == 1
        bad = await client.get("/tasks", params={"department_code": "wc-mzj", "status": "lost"}, headers=mine)
        assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "query.status")


async def test_claim_release_reassign_and_their_refusals(db_url: str) -> None:
    clock = Clock(at("2025-09-26"))
    async with backoffice(db_url, clock) as (app, client):
        await deliver(app, item_published(), accepted("app-000001"))
        task = (await client.get("/applications/app-000001/task", headers=caller(MZJ))).json()["id"]
        assert (await client.post(f"/tasks/{task}/release", headers=caller(MZJ))).json()[
            "code"
        ] == "not_claimed"
        assert (await client.post(f"/tasks/{task}/claim", headers=caller(MZJ))).status_code == 200
        assert (
            await client.post(f"/tasks/{task}/claim", headers=caller(MZJ))
        ).status_code == 200  # idempotent
        taken = await client.post(f"/tasks/{task}/claim", headers=caller(MZJ_2))
        assert (taken.status_code, taken.json()["code"]) == (409, "claimed_by_other")
        assert (await client.post(f"/tasks/{task}/release", headers=caller(MZJ_2))).status_code == 409
        assert (await client.post(f"/tasks/{task}/claim", headers=caller(RSJ))).status_code == 404
        body = {"assignee": "mzj-wang", "reason": "李科员休假，改由王科员办理"}
        moved = await client.post(f"/tasks/{task}/reassign", json=body, headers=caller(MZJ))
        assert moved.json()["assignee"] == "mzj-wang"
        same = await client.post(f"/tasks/{task}/reassign", json=body, headers=caller(MZJ))
        assert (same.status_code, same.json()["errors"][0]["rule"]) == (409, "different")
        invalid = await client.post(
            f"/tasks/{task}/reassign", json={"assignee": "a b", "reason": "x"}, headers=caller(MZJ)
        )
        assert invalid.status_code == 422
        assert {e["field"] for e in invalid.json()["errors"]} == {"assignee", "reason"}
        assert (await client.post(f"/tasks/{task}/release", headers=caller(MZJ_2))).json()["assignee"] is None
        trail = (await client.get(f"/tasks/{task}/audit", headers=caller(MZJ))).json()
        assert [(e["action"], e["actor"]) for e in trail] == [
            ("received", "backoffice"),
            ("claimed", "mzj-li"),
            ("reassigned", "mzj-li"),
            ("released", "mzj-wang"),
        ]


async def test_transfer_to_another_department_or_back_to_intake_and_rerouting(db_url: str) -> None:
    clock = Clock(at("2025-09-26"))
    async with backoffice(db_url, clock) as (app, client):
        await deliver(app, item_published(), item_published("wc-rsj-sbk", department_code="wc-rsj"))
        await deliver(app, accepted("app-000001"), accepted("app-000002"))
        first = (await client.get("/applications/app-000001/task", headers=caller(MZJ))).json()["id"]
        second = (await client.get("/applications/app-000002/task", headers=caller(MZJ))).json()["id"]
        reason = {"reason": "属人社部门职责"}
        own = await client.post(
            f"/tasks/{first}/transfer", json={"to_department": "wc-mzj", **reason}, headers=caller(MZJ)
        )
        assert (own.status_code, own.json()["errors"][0]["rule"]) == (422, "different_department")
        nowhere = await client.post(
            f"/tasks/{first}/transfer", json={"to_department": "wc-none", **reason}, headers=caller(MZJ)
        )
        assert (nowhere.status_code, nowhere.json()["errors"][0]["rule"]) == (422, "known_department")
        moved = await client.post(
            f"/tasks/{first}/transfer", json={"to_department": "wc-rsj", **reason}, headers=caller(MZJ)
        )
        assert moved.json()["department_code"] == "wc-rsj"
        assert (await client.get(f"/tasks/{first}", headers=caller(MZJ))).status_code == 404
        assert (await client.get(f"/tasks/{first}", headers=caller(RSJ))).status_code == 200
        returned = await client.post(f"/tasks/{second}/transfer", json=reason, headers=caller(MZJ))
        assert returned.json()["status"] == "returned"
        again = await client.post(f"/tasks/{second}/transfer", json=reason, headers=caller(MZJ))
        assert (again.status_code, again.json()["code"]) == (409, "task_finished")
        events = await published(app, "backoffice.task.transferred")
        assert [(e["from_department"], e["to_department"]) for e in events] == [
            ("wc-mzj", "wc-rsj"),
            ("wc-mzj", None),
        ]
        # Intake routes the returned case again: the new department receives it, deadline kept.
        await deliver(app, accepted("app-000002", department="wc-rsj"))
        rerouted = (await client.get(f"/tasks/{second}", headers=caller(RSJ))).json()
        assert (rerouted["status"], rerouted["deadline_date"]) == ("received", "2025-10-10")


async def test_a_joint_item_makes_sub_tasks_for_its_assisting_departments(db_url: str) -> None:
    async with backoffice(db_url, Clock(at("2025-09-26"))) as (app, _client):
        joint = item_published(handling_type="联办件", joint_departments=["wc-rsj", "wc-gafj", "wc-mzj"])
        await deliver(app, joint, accepted("app-000001"))
        async with app.state.sessions() as session:
            rows = (await session.execute(sa.select(Subtask.department_code, Subtask.due_date))).all()
        assert sorted((d, str(due)) for d, due in rows) == [
            ("wc-gafj", "2025-10-09"),
            ("wc-rsj", "2025-10-09"),
        ]


async def test_a_reported_case_goes_up_to_its_deciding_body(db_url: str) -> None:
    async with backoffice(db_url, Clock(at("2025-09-26"))) as (app, client):
        passport = item_published(
            "wc-gafj-hz", department_code="wc-gafj", handling_type="上报件", deciding_department="jh-crj"
        )
        await deliver(app, passport, accepted("app-000001", item_id="wc-gafj-hz", department="wc-gafj"))
        scopes = frozenset({"backoffice:read"})
        municipal = Identity(kind="system", client_id="dept-jh-crj", scopes=scopes, department="jh-crj")
        task = await client.get("/applications/app-000001/task", headers=caller(municipal))
        assert task.json()["department_code"] == "jh-crj"
