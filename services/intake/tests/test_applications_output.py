"""出件 on real PostgreSQL and SQLite: decisions from the back office, pickup codes, the courier, progress."""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts.backoffice import TaskDecided, TaskReceived, TaskSuspended
from contracts.envelope import Event, new_event
from intake.applications.courier import s10_check_digit

from .applications_support import (
    LI,
    PASSPORT,
    WANG,
    Intake,
    at,
    citizen,
    department,
    intake,
    operator,
    window,
)

COURIER = {
    "method": "courier",
    "recipient_name": "王建国",
    "recipient_phone": "13800000001",
    "address": "婺城区宾虹路858号",
}


def backoffice(event_type: str, application: dict[str, Any], data: Any) -> Event:
    return new_event(type=event_type, source="/backoffice", subject=application["id"], data=data)


def decided(application: dict[str, Any], decision: str = "approved", day: date = date(2026, 10, 12)) -> Event:
    data = TaskDecided(
        application_id=application["id"],
        case_number=application["case_number"],
        department_code="jh-crj",
        decision=decision,
        reason=None if decision == "approved" else "不符合签发条件",
        decided_at=at(day, "15:00"),
        actor="crj-officer",
        result_name="中华人民共和国普通护照",
    )
    return backoffice("backoffice.task.decided", application, data)


async def passport(t: Intake, **body: Any) -> dict[str, Any]:
    response = await t.apply(citizen(), item_id=PASSPORT.item_id, **body)
    assert response.json()["status"] == "accepted", response.text
    result: dict[str, Any] = response.json()
    return result


async def test_pickup_with_the_code_sent_and_a_limit_on_wrong_codes(db_url: str) -> None:
    async with intake(db_url) as t:
        application = await passport(t, delivery={"method": "pickup"})
        assert application["deciding_department"] == "jh-crj"  # 上报件: the city bureau decides
        received = TaskReceived(
            task_id="t1", application_id=application["id"], case_number=application["case_number"], item_id=PASSPORT.item_id,
            item_version=1, department_code="jh-crj", handling_type="上报件", limit_days=7, limit_unit="工作日",
            deadline_date=date(2026, 10, 19), received_at=at(date(2026, 9, 30), "10:05"),
        )  # fmt: skip
        await t.handle(backoffice("backoffice.task.received", application, received))
        await t.handle(decided(application))
        await t.handle(decided(application))  # the same decision re-sent: nothing more happens
        ready = [data for kind, data in await t.events() if kind == "intake.output.ready"]
        assert len(ready) == 1
        code, place = ready[0]["pickup_code"], ready[0]["pickup_place"]
        assert (len(code), place) == (6, "婺城区行政服务中心一楼统一出件窗口")
        async with t.app.state.engine.connect() as conn:
            stored = (await conn.exec_driver_sql("SELECT code_hash FROM output")).scalar_one()
        assert code not in stored
        assert stored.startswith("scrypt$")

        check = {"case_number": application["case_number"]}
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        by_citizen = await t.post("/output/pickups", citizen(), {**check, "pickup_code": code})
        assert by_citizen.status_code == 403
        for left in (4, 3, 2, 1, 0):
            refused = await t.post("/output/pickups", window(), {**check, "pickup_code": wrong})
            assert (refused.status_code, refused.json()["code"]) == (422, "pickup_code_wrong")
            assert f"还可尝试{left}次" in refused.json()["detail"]
        locked = await t.post("/output/pickups", window(), {**check, "pickup_code": code})
        assert (locked.status_code, locked.json()["code"]) == (423, "pickup_locked")

        # A new code for the applicant, and the right one hands the result over.
        again = await t.post(f"/applications/{application['id']}/delivery", citizen(), {"method": "pickup"})
        assert (again.status_code, again.json()["attempts"]) == (200, 0)
        code = [d for k, d in await t.events() if k == "intake.output.ready"][-1]["pickup_code"]
        handed = await t.post("/output/pickups", window(), {**check, "pickup_code": code})
        assert (handed.status_code, handed.json()["status"]) == (200, "delivered")
        [delivered] = [d for k, d in await t.events() if k == "intake.output.delivered"]
        assert (delivered["method"], delivered["case_number"]) == ("pickup", application["case_number"])
        twice = await t.post("/output/pickups", window(), {**check, "pickup_code": code})
        assert (twice.status_code, twice.json()["code"]) == (409, "not_ready_for_pickup")

        progress = await t.post("/progress", citizen(), {**check, "id_number": WANG})
        steps = [s["status"] for s in progress.json()["history"]]
        assert steps[:5] == ["submitted", "accepted", "processing", "approved", "ready"]
        assert steps[-1] == "delivered"
        assert steps.count("pickup_refused") == 5
        assert progress.json()["promised_date"] == "2026-10-15"  # 7 working days after 09-30


async def test_courier_delivery_with_tracking_and_the_callback(db_url: str) -> None:
    async with intake(db_url) as t:
        application = await passport(t)
        path = f"/applications/{application['id']}/delivery"
        chosen = await t.post(path, citizen(), COURIER)
        assert (chosen.status_code, chosen.json()["status"], chosen.json()["tracking_number"]) == (
            200,
            "chosen",
            None,
        )
        await t.handle(decided(application))
        [sent] = [d for k, d in await t.events() if k == "intake.output.dispatched"]
        number = sent["tracking_number"]
        assert (number[:2], number[-2:], int(number[10])) == ("EA", "CN", s10_check_digit(number[2:10]))
        callback = operator()  # a courier's system client holds intake:courier; an operator may too
        assert (
            await t.post("/courier/events", window(), {"tracking_number": number, "status": "delivered"})
        ).status_code == 403
        unknown = await t.post(
            "/courier/events", callback, {"tracking_number": "EA000000000CN", "status": "delivered"}
        )
        assert unknown.status_code == 404
        for status in ("in_transit", "delivered", "delivered"):
            response = await t.post(
                "/courier/events", callback, {"tracking_number": number, "status": status}
            )
            assert response.status_code == 204, response.text
        assert [k for k, _ in await t.events()].count("intake.output.delivered") == 1
        assert (await t.client.get(f"/applications/{application['id']}", headers=citizen())).json()[
            "status"
        ] == "delivered"
        late = await t.post(path, citizen(), {"method": "pickup"})
        assert (late.status_code, late.json()["code"]) == (409, "application_state")


async def test_rejections_suspensions_progress_and_my_applications(db_url: str) -> None:
    async with intake(db_url) as t:
        application = await passport(t)
        suspended = TaskSuspended(
            task_id="t1", application_id=application["id"], case_number=application["case_number"],
            department_code="jh-crj", applicant_id=WANG, kind="buzheng", reason="照片不合格",
            materials=["近期免冠照片"], suspended_on=date(2026, 10, 8),
        )  # fmt: skip
        await t.handle(backoffice("backoffice.task.suspended", application, suspended))
        await t.handle(decided(application, "rejected"))
        body = {"case_number": application["case_number"], "id_number": WANG}
        progress = (await t.post("/progress", citizen(), body)).json()
        assert [s["status"] for s in progress["history"]] == [
            "submitted",
            "accepted",
            "suspended",
            "rejected",
        ]
        assert progress["history"][2]["reason"] == "照片不合格"
        assert progress["history"][-1]["reason"] == "不符合签发条件"
        for headers, who in ((citizen(LI, "李秀英"), WANG), (citizen(), LI), (department("wc-mzj"), WANG)):
            hidden = await t.post("/progress", headers, {**body, "id_number": who})
            assert hidden.status_code == 404
        assert (await t.post("/progress", department("jh-crj"), body)).status_code == 200
        mine = await t.client.get("/applications", headers=citizen())
        assert [a["status"] for a in mine.json()] == ["rejected"]
        assert (await t.client.get("/applications", headers=department("jh-crj"))).json()[0][
            "id"
        ] == application["id"]
        assert (await t.client.get("/applications", headers=department("wc-mzj"))).json() == []
        bad = await t.post("/progress", citizen(), {**body, "case_number": "nope"})
        assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "case_number")


async def test_statistics_per_department_and_month(db_url: str) -> None:
    async with intake(db_url) as t:
        first = await passport(t)  # online, 一证通办 (only the ID card)
        second = await passport(t, delivery={"method": "pickup"})
        await t.apply(window(), applicant_id=LI, applicant_name="李秀英")  # waits: not handled
        hukou = [{"name": "居民户口簿", "evidence_ref": "e"}]
        await t.apply(citizen(), materials=hukou, rongque={"signed_name": "王建国"})  # 容缺, wc-mzj
        await t.handle(decided(first, day=date(2026, 10, 15)))  # on the promised day
        await t.handle(decided(second, day=date(2026, 10, 16)))  # a day late
        figures = await t.client.get("/statistics", params={"month": "2026-09"}, headers=window())
        rows = {r["department_code"]: r for r in figures.json()["departments"]}
        gafj = rows["wc-gafj"]
        assert (
            gafj["handled"],
            gafj["zero_trip"],
            gafj["one_certificate"],
            gafj["decided"],
            gafj["on_time"],
        ) == (2, 1, 2, 2, 1)
        assert (gafj["zero_trip_share"], gafj["on_time_share"], gafj["instant_share"]) == (0.5, 0.5, 0.0)
        assert (rows["wc-mzj"]["handled"], rows["wc-mzj"]["one_certificate"]) == (1, 0)
        assert figures.json()["total"]["handled"] == 3
        own = await t.client.get("/statistics", params={"month": "2026-09"}, headers=department("wc-mzj"))
        assert [r["department_code"] for r in own.json()["departments"]] == ["wc-mzj"]
        other = await t.client.get(
            "/statistics",
            params={"month": "2026-09", "department_code": "wc-gafj"},
            headers=department("wc-mzj"),
        )
        assert other.status_code == 403
        assert (
            await t.client.get("/statistics", params={"month": "2026-09"}, headers=citizen())
        ).status_code == 403
        empty = await t.client.get("/statistics", params={"month": "2026-10"}, headers=operator())
        assert empty.json()["total"]["handled"] == 0
        bad = await t.client.get("/statistics", params={"month": "2026-13"}, headers=operator())
        assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "query.month")
