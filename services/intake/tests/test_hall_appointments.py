"""Appointments and the end of the day on real PostgreSQL and SQLite, across the National Day holiday."""

from __future__ import annotations

from datetime import date, timedelta

from .test_hall_support import ELDER, HALL, OTHER, WORKDAY, YOUNG, Hall, citizen, hall, operator, staff

SEPT_29 = WORKDAY - timedelta(days=1)
OCT_8 = date(2026, 10, 8)


async def _slots(h: Hall) -> dict[tuple[str, str], str]:
    body = {
        "queue_code": "A",
        "date_from": "2026-09-28",
        "date_to": "2026-10-09",
        "start_times": ["09:00", "12:30", "17:30"],
        "duration_min": 30,
        "capacity": 2,
    }
    made = await h.post(f"/halls/{HALL}/slots", operator(), body)
    assert made.status_code == 200, made.text
    # 10-01..10-07 is the National Day holiday; 12:30 is lunch; 17:30 is A01's 延时
    assert made.json()["closed_days"] == [f"2026-10-0{d}" for d in range(1, 8)]
    assert made.json()["created"] == 10
    assert len(made.json()["outside_hours"]) == 5
    assert (await h.post(f"/halls/{HALL}/slots", operator(), body)).json()["created"] == 0  # idempotent
    listed = await h.client.get(
        f"/halls/{HALL}/slots", params={"date_from": "2026-09-28", "days": 14}, headers=citizen()
    )
    return {(s["slot_date"], s["start_time"]): s["id"] for s in listed.json()}


async def test_booking_rules_and_a_check_in_that_jumps_the_queue(db_url: str) -> None:
    async with hall(db_url) as h:
        slots = await _slots(h)
        assert sorted({d for d, _ in slots}) == [
            "2026-09-28",
            "2026-09-29",
            "2026-09-30",
            "2026-10-08",
            "2026-10-09",
        ]
        h.clock.set(SEPT_29, "10:00")
        morning = slots[("2026-09-30", "09:00")]
        book = {"slot_id": morning, "item_id": "wc-mzj-lnyd", "id_number": YOUNG}
        booked = await h.post("/appointments", citizen(YOUNG), book)
        assert booked.status_code == 201, booked.text
        assert (booked.json()["status"], booked.json()["queue_code"]) == ("booked", "A")
        evening = {**book, "slot_id": slots[("2026-09-30", "17:30")]}
        twice = await h.post("/appointments", citizen(YOUNG), evening)
        assert (twice.status_code, twice.json()["errors"][0]["rule"]) == (409, "one_booking_per_item_per_day")
        other = await h.post("/appointments", citizen(OTHER), {**book, "id_number": OTHER})
        assert other.status_code == 201
        full = await h.post("/appointments", staff(), {**book, "id_number": ELDER})
        assert (full.status_code, full.json()["errors"][0]) == (
            409,
            {"field": "slot_id", "rule": "capacity", "message": "该时段已约满 (the slot is fully booked)"},
        )
        past = await h.post("/appointments", staff(), {**book, "slot_id": slots[("2026-09-29", "09:00")]})
        assert (past.status_code, past.json()["errors"][0]["rule"]) == (422, "future_slot")
        police = await h.post("/appointments", staff(), {**book, "item_id": "wc-gafj-hz", "id_number": ELDER})
        assert (police.status_code, police.json()["errors"][0]["rule"]) == (422, "served_by_queue")
        assert (
            await h.post("/appointments", citizen(YOUNG), {**book, "id_number": OTHER})
        ).status_code == 403
        bad_id = await h.post("/appointments", staff(), {**book, "id_number": "330702199001011234"})
        assert (bad_id.status_code, bad_id.json()["errors"][0]["field"]) == (422, "id_number")
        unknown = await h.post("/appointments", staff(), {**book, "slot_id": "0" * 32})
        assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "slot_id")
        assert await h.count("appointment") == 2

        cancelled = await h.post(f"/appointments/{other.json()['id']}/cancel", citizen(OTHER))
        assert cancelled.json()["status"] == "cancelled"
        assert (await h.post(f"/appointments/{other.json()['id']}/cancel", citizen(OTHER))).status_code == 409
        assert (await h.post("/appointments", staff(), {**book, "id_number": ELDER})).status_code == 201
        mine = await h.client.get("/appointments", headers=citizen(YOUNG))
        assert [a["id"] for a in mine.json()] == [booked.json()["id"]]
        assert (
            await h.client.get(f"/appointments/{other.json()['id']}", headers=citizen(YOUNG))
        ).status_code == 404
        assert (
            await h.client.get("/appointments", params={"slot_date": "9999-99-99"}, headers=staff())
        ).status_code == 422

        # The day: two walk-ins, then the appointment checks in and is called first
        early = await h.post(f"/appointments/{booked.json()['id']}/check-in", citizen(YOUNG))
        assert (early.status_code, early.json()["errors"][0]["rule"]) == (409, "check_in_window")
        h.clock.set(WORKDAY, "08:35")
        walk_ins = [(await h.take()).json()["number"] for _ in range(2)]
        h.clock.set(WORKDAY, "08:40")
        ticket = await h.post(f"/appointments/{booked.json()['id']}/check-in", citizen(YOUNG))
        assert ticket.status_code == 201, ticket.text
        assert (ticket.json()["priority"], ticket.json()["position"], ticket.json()["number"]) == (
            "appointment",
            1,
            "A003",
        )
        assert walk_ins == ["A001", "A002"]
        assert (await h.post("/windows/A01/call-next", staff("A01"))).json()["ticket"]["number"] == "A003"
        checked = (await h.client.get(f"/appointments/{booked.json()['id']}", headers=citizen(YOUNG))).json()
        assert (checked["status"], checked["ticket_id"]) == ("checked_in", ticket.json()["id"])
        assert (
            await h.post(f"/appointments/{booked.json()['id']}/check-in", citizen(YOUNG))
        ).status_code == 409
        assert await h.events() == [
            "intake.appointment.booked",
            "intake.appointment.booked",
            "intake.appointment.cancelled",
            "intake.appointment.booked",
            "intake.ticket.issued",
            "intake.ticket.issued",
            "intake.ticket.issued",
            "intake.appointment.checked_in",
            "intake.ticket.called",
        ]


async def test_the_day_before_national_day_closes_until_october_8(db_url: str) -> None:
    async with hall(db_url) as h:
        slots = await _slots(h)
        h.clock.set(WORKDAY, "08:31")
        evening = {"slot_id": slots[("2026-09-30", "17:30")], "item_id": "wc-mzj-lnyd", "id_number": ELDER}
        missed = (await h.post("/appointments", staff(), evening)).json()
        later = {**evening, "slot_id": slots[("2026-10-08", "09:00")], "id_number": OTHER}
        kept = (await h.post("/appointments", staff(), later)).json()
        tickets = [(await h.take()).json() for _ in range(3)]
        await h.post("/windows/A01/call-next", staff("A01"))
        await h.post(f"/tickets/{tickets[0]['id']}/start", staff("A01"))
        await h.post(f"/tickets/{tickets[0]['id']}/finish", staff("A01"))
        await h.post("/windows/A01/call-next", staff("A01"))  # called, never came

        h.clock.set(WORKDAY, "17:45")
        too_soon = await h.post(f"/halls/{HALL}/close-day", operator())
        assert (too_soon.status_code, too_soon.json()["errors"][0]["rule"]) == (409, "after_closing")
        early = await h.post(f"/appointments/{missed['id']}/no-show", staff())
        assert (early.status_code, early.json()["errors"][0]["rule"]) == (409, "after_slot_end")
        assert (
            await h.post(f"/halls/{HALL}/close-day", operator(), {"day": "2026-10-02"})
        ).status_code == 409
        h.clock.set(WORKDAY, "18:05")
        closed = await h.post(f"/halls/{HALL}/close-day", operator())
        assert closed.status_code == 200, closed.text
        assert closed.json() == {
            "hall_id": HALL,
            "day": "2026-09-30",
            "expired_tickets": 2,
            "missed_appointments": 1,
            "next_opening_day": "2026-10-08",
        }
        again = (await h.post(f"/halls/{HALL}/close-day", operator())).json()
        assert (again["expired_tickets"], again["missed_appointments"]) == (0, 0)
        assert await h.count("ticket") == 3  # recorded, not deleted
        assert await h.count("ticket", "status = 'expired'") == 2
        statuses = {
            a["id"]: a["status"] for a in (await h.client.get("/appointments", headers=staff())).json()
        }
        assert statuses == {missed["id"]: "no_show", kept["id"]: "booked"}
        events = await h.events()
        assert events.count("intake.ticket.expired") == 2
        assert events.count("intake.appointment.missed") == 1

        for day in (date(2026, 10, 1), date(2026, 10, 7)):
            h.clock.set(day, "10:00")
            assert (await h.take()).json()["errors"][0]["rule"] == "opening_hours"
        h.clock.set(OCT_8, "08:30")
        assert (await h.take()).json()["number"] == "A001"  # numbers start again each day
