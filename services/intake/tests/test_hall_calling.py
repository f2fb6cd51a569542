"""Calling on real PostgreSQL and SQLite: concurrent windows, window rules, moving wait estimates."""

from __future__ import annotations

import asyncio

import httpx

from .test_hall_support import HALL, WORKDAY, Hall, hall, operator, staff

WINDOWS = [f"A{n:02d}" for n in range(1, 11)]


async def _issue_200(h: Hall) -> list[str]:
    """200 tickets in queue A, every 7th with the disabled priority; answers the expected call order."""
    priority: list[str] = []
    normal: list[str] = []
    for n in range(200):
        body = {"priority": "disabled"} if n % 7 == 3 else {}
        ticket = (await h.take(**body)).json()
        (priority if body else normal).append(ticket["id"])
    return priority + normal


async def test_ten_windows_calling_at_once_take_each_ticket_once_in_priority_order(db_url: str) -> None:
    async with hall(db_url, windows=10) as h:
        expected = await _issue_200(h)

        async def serve(window: str) -> str:
            called = await h.post(f"/windows/{window}/call-next", staff(window))
            assert called.status_code == 200, called.text
            ticket: str = called.json()["ticket"]["id"]
            assert (await h.post(f"/tickets/{ticket}/start", staff(window))).status_code == 200
            assert (await h.post(f"/tickets/{ticket}/finish", staff(window))).status_code == 200
            return ticket

        taken: list[str] = []
        for round_ in range(20):
            # All ten windows press "call next" at the same instant; each round takes exactly the
            # ten tickets that were next in priority order, whichever window got which.
            got = await asyncio.gather(*(serve(w) for w in WINDOWS))
            assert sorted(got) == sorted(expected[10 * round_ : 10 * round_ + 10])
            taken += got
        assert sorted(taken) == sorted(expected)
        assert await h.count("ticket", "status = 'done' AND call_count = 1") == 200
        empty = (await h.post("/windows/A01/call-next", staff("A01"))).json()
        assert empty == {"ticket": None, "waiting": 0}


async def test_a_burst_of_200_concurrent_calls_hands_out_each_ticket_exactly_once(pg_url: str) -> None:
    """PostgreSQL only: 200 writers at once would outwait SQLite's busy timeout, which is the point
    of SKIP LOCKED here. One call per ticket: with max_calls=1 a window's next call closes its
    previous ticket as a no-show, so twenty calls per window all succeed."""
    async with hall(pg_url, max_calls=1, windows=10) as h:
        expected = await _issue_200(h)
        calls = [h.post(f"/windows/{w}/call-next", staff(w)) for w in WINDOWS for _ in range(20)]
        answers: list[httpx.Response] = await asyncio.gather(*calls)
        assert {a.status_code for a in answers} == {200}
        ids = [a.json()["ticket"]["id"] for a in answers]
        assert len(ids) == len(set(ids)) == 200
        assert set(ids) == set(expected)
        assert await h.count("ticket", "call_count = 1") == 200
        assert await h.count("ticket", "status = 'called'") == 10  # the last one at each window


async def test_a_window_calls_only_when_open_and_only_by_its_own_staff(db_url: str) -> None:
    async with hall(db_url) as h:
        first = (await h.take()).json()
        second = (await h.take()).json()
        police = (await h.take(item_id="wc-gafj-hz")).json()
        assert (await h.post("/windows/A01/call-next", staff("A02"))).status_code == 403
        assert (await h.post("/windows/A01/call-next", operator())).status_code == 403
        paused = await h.post("/windows/A01/pause", staff("A01"), {"reason": "系统故障"})
        assert (paused.json()["status"], paused.json()["pause_reason"]) == ("paused", "系统故障")
        refused = await h.post("/windows/A01/call-next", staff("A01"))
        assert refused.status_code == 409
        assert (refused.json()["code"], refused.json()["errors"][0]["field"]) == ("window_paused", "window")
        assert "系统故障" in refused.json()["detail"]
        again = await h.post("/windows/A01/pause", staff("A01"), {"reason": "x"})
        assert again.status_code == 409
        assert (await h.post("/windows/A01/pause", staff("A01"), {"reason": ""})).status_code == 422
        assert (await h.post("/windows/A01/resume", operator())).json()["status"] == "open"
        assert (await h.post("/windows/A01/resume", staff("A01"))).status_code == 409
        closed = await h.client.patch("/windows/A02", json={"status": "closed"}, headers=operator())
        assert closed.json()["status"] == "closed"
        assert (await h.post("/windows/A02/call-next", staff("A02"))).json()["code"] == "window_closed"
        bad_queue = await h.client.patch("/windows/A02", json={"queues": ["Q"]}, headers=operator())
        assert (bad_queue.status_code, bad_queue.json()["errors"][0]["field"]) == (422, "queues")
        h.clock.set(WORKDAY, "12:30")
        lunch = await h.post("/windows/A01/call-next", staff("A01"))
        assert (lunch.status_code, lunch.json()["errors"][0]["rule"]) == (409, "opening_hours")
        h.clock.set(WORKDAY, "17:30")  # 延时 at A01 only
        assert (await h.post("/windows/A01/call-next", staff("A01"))).json()["ticket"]["id"] == first["id"]
        busy = await h.post("/windows/A01/call-next", staff("A01"))
        assert (busy.status_code, busy.json()["errors"][0]["rule"]) == (409, "one_ticket_at_a_time")
        not_serving = await h.post(f"/tickets/{first['id']}/finish", staff("A01"))
        assert (not_serving.status_code, not_serving.json()["errors"][0]["field"]) == (409, "status")
        assert (await h.post(f"/tickets/{first['id']}/start", staff("A02"))).status_code == 403
        wrong_queue = await h.post("/windows/A01/call", staff("A01"), {"ticket_id": police["id"]})
        assert (wrong_queue.status_code, wrong_queue.json()["errors"][0]["rule"]) == (422, "served_by_window")
        same = await h.post(f"/tickets/{first['id']}/transfer", staff("A01"), {"queue_code": "A"})
        assert (same.status_code, same.json()["errors"][0]["rule"]) == (422, "other_queue")
        unknown = await h.post(f"/tickets/{first['id']}/finish", staff("A01"), {"application_id": "nope"})
        assert unknown.status_code == 409  # not serving yet: the state is checked first
        await h.post(f"/tickets/{first['id']}/start", staff("A01"))
        unknown = await h.post(f"/tickets/{first['id']}/finish", staff("A01"), {"application_id": "nope"})
        assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "application_id")
        assert (await h.post(f"/tickets/{first['id']}/finish", staff("A01"))).json()["status"] == "done"
        waiting = await h.post(f"/tickets/{second['id']}/recall", staff("A01"))
        assert (waiting.status_code, waiting.json()["errors"][0]["rule"]) == (409, "called")
        given = await h.post("/windows/A01/call", staff("A01"), {"ticket_id": second["id"]})
        assert given.json()["ticket"]["number"] == "A002"
        called_again = await h.post("/windows/A01/call", staff("A01"), {"ticket_id": second["id"]})
        assert called_again.status_code == 409


async def test_wait_estimates_follow_the_queue_and_the_measured_service_times(db_url: str) -> None:
    async with hall(db_url) as h:
        tickets = [(await h.take()).json() for _ in range(4)]
        # no service measured yet: 600 s per ticket over the 2 windows serving A
        assert [t["estimated_wait_minutes"] for t in tickets] == [5, 10, 15, 20]
        await h.post("/windows/A01/call-next", staff("A01"))
        await h.post(f"/tickets/{tickets[0]['id']}/start", staff("A01"))
        h.clock.set(WORKDAY, "10:02")  # a 2-minute service
        await h.post(f"/tickets/{tickets[0]['id']}/finish", staff("A01"))
        now = [(await h.client.get(f"/tickets/{t['id']}", headers=staff())).json() for t in tickets[1:]]
        assert [t["position"] for t in now] == [1, 2, 3]
        assert [t["estimated_wait_minutes"] for t in now] == [1, 2, 3]
        await h.post("/windows/A02/pause", staff("A02"), {"reason": "临时离岗"})
        last = (await h.client.get(f"/tickets/{tickets[3]['id']}", headers=staff())).json()
        assert last["estimated_wait_minutes"] == 6  # one window left
        ahead = await h.client.get("/tickets", params={"hall_id": HALL, "status": "waiting"}, headers=staff())
        assert sorted(t["position"] for t in ahead.json()) == [1, 2, 3]
