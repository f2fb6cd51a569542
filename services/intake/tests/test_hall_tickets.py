"""Hall tickets on real PostgreSQL and SQLite: the whole lifecycle, its events, and refused input."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from .test_hall_support import ELDER, HALL, OTHER, WORKDAY, YOUNG, citizen, hall, operator, staff


async def test_the_whole_ticket_lifecycle(db_url: str) -> None:
    async with hall(db_url) as h:
        first = await h.take(citizen(YOUNG), channel="app", id_number=YOUNG)
        assert first.status_code == 201, first.text
        a001 = first.json()
        # 600 s per service, 2 windows serve A: the first in line waits about 5 minutes
        assert (a001["number"], a001["position"], a001["estimated_wait_minutes"]) == ("A001", 1, 5)
        assert (a001["priority"], a001["id_number_masked"]) == ("normal", YOUNG[:6] + "********" + YOUNG[-4:])
        h.clock.set(WORKDAY, "10:01")
        elder = (await h.take(id_number=ELDER)).json()
        assert (elder["number"], elder["priority"], elder["position"]) == ("A002", "elderly", 1)
        h.clock.set(WORKDAY, "10:02")
        police = (await h.take(item_id="wc-gafj-hz")).json()
        assert (police["queue_code"], police["number"], police["item_id"]) == ("B", "B001", "wc-gafj-hz")
        mine = await h.client.get(f"/tickets/{a001['id']}", headers=citizen(YOUNG))
        assert mine.json()["position"] == 2  # the elderly ticket went ahead

        called = await h.post("/windows/A01/call-next", staff("A01"))
        assert called.status_code == 200, called.text
        ticket = called.json()["ticket"]
        assert (ticket["number"], ticket["status"], ticket["window_code"]) == ("A002", "called", "A01")
        assert ticket["announcement"] == "请A002号到A01号窗口办理"
        assert called.json()["waiting"] == 1
        recalled = (await h.post(f"/tickets/{elder['id']}/recall", staff("A01"))).json()["ticket"]
        assert recalled["call_count"] == 2
        h.clock.set(WORKDAY, "10:05")
        assert (await h.post(f"/tickets/{elder['id']}/start", staff("A01"))).json()["status"] == "serving"
        application = await h.post(
            "/applications",
            staff("A01"),
            {
                "item_id": "wc-mzj-lnyd",
                "applicant_id": ELDER,
                "applicant_name": "张大爷",
                "channel": "window",
            },
        )
        assert application.status_code == 201, application.text
        h.clock.set(WORKDAY, "10:12")
        finish = {"item_id": "wc-mzj-lnyd", "application_id": application.json()["id"]}
        done = (await h.post(f"/tickets/{elder['id']}/finish", staff("A01"), finish)).json()
        assert (done["status"], done["served_item_id"], done["application_id"]) == (
            "done",
            "wc-mzj-lnyd",
            application.json()["id"],
        )

        # A001 belongs at the 公安 window: transferred, it keeps its 10:00 place ahead of B001
        assert (await h.post("/windows/A01/call-next", staff("A01"))).json()["ticket"]["number"] == "A001"
        await h.post(f"/tickets/{a001['id']}/start", staff("A01"))
        moved = await h.post(
            f"/tickets/{a001['id']}/transfer", staff("A01"), {"queue_code": "B", "reason": "户籍业务"}
        )
        assert moved.status_code == 201, moved.text
        b002 = moved.json()
        assert (b002["number"], b002["transferred_from_id"], b002["position"]) == ("B002", a001["id"], 1)
        old = (await h.client.get(f"/tickets/{a001['id']}", headers=citizen(YOUNG))).json()
        assert old["status"] == "transferred"
        assert (await h.post("/windows/B01/call-next", staff("B01"))).json()["ticket"]["id"] == b002["id"]
        await h.post(f"/tickets/{b002['id']}/start", staff("B01"))
        await h.post(f"/tickets/{b002['id']}/finish", staff("B01"))

        # B001 never comes: three calls, then 过号
        assert (await h.post("/windows/B01/call-next", staff("B01"))).json()["ticket"]["number"] == "B001"
        early = await h.post(f"/tickets/{police['id']}/no-show", staff("B01"))
        assert early.status_code == 409
        assert early.json()["errors"][0]["rule"] == "calls_before_no_show"
        for _ in range(2):
            assert (await h.post(f"/tickets/{police['id']}/recall", staff("B01"))).status_code == 200
        used = await h.post(f"/tickets/{police['id']}/recall", staff("B01"))
        assert (used.status_code, used.json()["errors"][0]["rule"]) == (409, "max_calls")
        missed = await h.post(f"/tickets/{police['id']}/no-show", staff("B01"))
        assert (missed.status_code, missed.json()["status"]) == (200, "no_show")

        assert await h.events() == [
            "intake.ticket.issued",
            "intake.ticket.issued",
            "intake.ticket.issued",
            "intake.ticket.called",
            "intake.ticket.called",
            "intake.ticket.service_started",
            "intake.application.completed",  # a 即办件 at a window is completed there
            "intake.ticket.finished",
            "intake.ticket.called",
            "intake.ticket.service_started",
            "intake.ticket.issued",
            "intake.ticket.transferred",
            "intake.ticket.called",
            "intake.ticket.service_started",
            "intake.ticket.finished",
            "intake.ticket.called",
            "intake.ticket.called",
            "intake.ticket.called",
            "intake.ticket.missed",
        ]
        assert await h.count("ticket") == 4  # nothing deleted: the transferred ticket stays


async def test_citizens_see_and_cancel_only_their_own_tickets(db_url: str) -> None:
    async with hall(db_url) as h:
        mine = (await h.take(citizen(YOUNG), channel="app")).json()
        assert mine["id_number_masked"].endswith(YOUNG[-4:])  # the token's number, the body named none
        theirs = (await h.take(citizen(OTHER), channel="app")).json()
        assert (await h.client.get(f"/tickets/{theirs['id']}", headers=citizen(YOUNG))).status_code == 404
        listed = (await h.client.get("/tickets", headers=citizen(YOUNG))).json()
        assert [t["id"] for t in listed] == [mine["id"]]
        staff_view = await h.client.get(
            "/tickets", params={"hall_id": HALL, "status": "waiting"}, headers=staff()
        )
        assert len(staff_view.json()) == 2
        assert (await h.post(f"/tickets/{theirs['id']}/cancel", citizen(YOUNG))).status_code == 404
        cancelled = await h.post(f"/tickets/{mine['id']}/cancel", citizen(YOUNG))
        assert cancelled.json()["status"] == "cancelled"
        again = await h.post(f"/tickets/{mine['id']}/cancel", citizen(YOUNG))
        assert (again.status_code, again.json()["errors"][0]["field"]) == (409, "status")
        assert (await h.client.get(f"/tickets/{theirs['id']}", headers=citizen(OTHER))).json()[
            "position"
        ] == 1
        bad = await h.client.get("/tickets", params={"status": "lost"}, headers=staff())
        assert bad.status_code == 422
        assert (await h.client.get("/tickets/not-a-ticket", headers=staff())).status_code == 422


@pytest.mark.parametrize(
    ("body", "status", "field", "rule"),
    [
        ({"id_number": YOUNG[:-1] + ("1" if YOUNG[-1] == "0" else "0")}, 422, "id_number", "value_error"),
        ({"item_id": "wc-mzj-lnyd", "queue_code": "A"}, 422, "", "value_error"),
        ({"queue_code": None}, 422, "", "value_error"),
        ({"item_id": "wc-nobody"}, 422, "item_id", "published_item"),
        ({"queue_code": "Z"}, 422, "queue_code", "exists"),
        ({"hall_id": "no-such-hall"}, 422, "hall_id", "exists"),
        ({"priority": "vip"}, 422, "priority", "literal_error"),
        ({"channel": "phone"}, 422, "channel", "literal_error"),
    ],
)
async def test_bad_tickets_name_the_field_and_issue_nothing(
    db_url: str, body: dict[str, Any], status: int, field: str, rule: str
) -> None:
    async with hall(db_url) as h:
        response = await h.take(**body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        error = response.json()["errors"][0]
        assert (error["field"], error["rule"]) == (field, rule)
        assert await h.count("ticket") == 0
        assert await h.events() == []


async def test_who_may_take_which_ticket(db_url: str) -> None:
    async with hall(db_url) as h:
        for_another = await h.take(citizen(YOUNG), channel="app", id_number=OTHER)
        assert for_another.status_code == 403
        at_desk = await h.take(citizen(YOUNG), channel="guide_desk")
        assert (at_desk.status_code, at_desk.json()["errors"][0]["rule"]) == (422, "app_for_citizens")
        claimed = await h.take(citizen(YOUNG), channel="app", priority="disabled")
        assert (claimed.status_code, claimed.json()["errors"][0]["field"]) == (422, "priority")
        assert (await h.take(priority="military", id_number=OTHER)).json()["priority"] == "military"
        twice = await h.take(id_number=OTHER)
        assert twice.status_code == 409
        assert twice.json()["errors"][0] == {
            "field": "id_number",
            "rule": "one_live_ticket_per_queue",
            "message": "同一人在同一队列只能持有一个有效号 (one live ticket per person and queue)",
        }
        assert (await h.take(id_number=OTHER, item_id="wc-gafj-hz")).status_code == 201  # another queue
        system = await h.take(operator())
        assert system.status_code == 201  # an operator may issue (a kiosk run by the platform)
        assert await h.count("ticket") == 3


async def test_no_ticket_while_the_hall_is_closed(db_url: str) -> None:
    async with hall(db_url) as h:
        h.clock.set(date(2026, 10, 1), "10:00")  # National Day
        closed = await h.take()
        assert closed.status_code == 409
        assert closed.json()["errors"][0]["rule"] == "opening_hours"
        assert "2026-10-08 08:30" in closed.json()["detail"]
        h.clock.set(WORKDAY, "12:30")  # lunch: no window serves A
        assert (await h.take()).status_code == 409
        h.clock.set(WORKDAY, "17:30")  # 延时: A01 stays open, so queue A takes tickets
        assert (await h.take()).status_code == 201
        h.clock.set(WORKDAY, "17:30")
        assert (await h.take(item_id="wc-gafj-hz")).status_code == 409  # no 公安 window in the evening
        assert await h.count("ticket") == 1
