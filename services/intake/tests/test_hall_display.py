"""The hall screen, its event stream with the voice text, and the manager's figures."""

from __future__ import annotations

import json

from .test_hall_support import HALL, WORKDAY, citizen, hall, operator, staff


def _frames(body: str) -> list[tuple[str, dict[str, object]]]:
    found = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


async def test_the_screen_shows_who_is_called_where_and_who_is_next(db_url: str) -> None:
    async with hall(db_url) as h:
        for _ in range(3):
            await h.take()
        await h.post("/windows/A02/pause", staff("A02"), {"reason": "午餐"})
        h.clock.set(WORKDAY, "10:03")
        await h.post("/windows/A01/call-next", staff("A01"))
        screen = await h.client.get(f"/halls/{HALL}/display", headers=citizen())
        assert screen.status_code == 200, screen.text
        body = screen.json()
        assert body["calling"][0]["announcement"] == "请A001号到A01号窗口办理"
        assert body["calling"][0]["window_name"] == "综合窗口A01"
        queue_a = next(q for q in body["queues"] if q["code"] == "A")
        assert (queue_a["waiting"], queue_a["next_numbers"]) == (2, ["A002", "A003"])
        windows = {w["code"]: w for w in body["windows"]}
        assert (windows["A01"]["current_number"], windows["A01"]["current_status"]) == ("A001", "called")
        assert (windows["A02"]["status"], windows["A02"]["pause_reason"], windows["A02"]["open_now"]) == (
            "paused",
            "午餐",
            False,
        )
        assert (await h.client.get("/halls/nowhere/display", headers=citizen())).status_code == 404
        assert (await h.client.get("/halls/NO_WAY/display", headers=citizen())).status_code == 422


async def test_the_stream_sends_the_screen_and_each_call_to_announce_once(db_url: str) -> None:
    async with hall(db_url) as h:
        await h.take()
        h.clock.set(WORKDAY, "10:03")
        await h.post("/windows/A01/call-next", staff("A01"))
        url = f"/halls/{HALL}/display/stream"
        # A screen that last heard something at 10:01 (Last-Event-ID) hears the 10:03 call
        headers = {**citizen(), "Last-Event-ID": "2026-09-30T10:01:00+08:00"}
        streamed = await h.client.get(url, params={"seconds": 1}, headers=headers)
        assert streamed.status_code == 200
        assert streamed.headers["content-type"].startswith("text/event-stream")
        frames = _frames(streamed.text)
        assert [event for event, _ in frames] == ["display", "announce"]
        assert frames[1][1] == {"number": "A001", "window_code": "A01", "text": "请A001号到A01号窗口办理"}
        # A screen connecting now gets the screen only: the call was announced before it came
        fresh = await h.client.get(url, params={"seconds": 1}, headers=citizen())
        assert [event for event, _ in _frames(fresh.text)] == ["display"]
        assert (await h.client.get("/halls/nowhere/display/stream", headers=citizen())).status_code == 404
        assert (await h.client.get(url, params={"seconds": 0}, headers=citizen())).status_code == 422
        assert (await h.client.get(url)).status_code == 401


async def test_statistics_give_waits_services_no_shows_and_transfers(db_url: str) -> None:
    async with hall(db_url, max_calls=1) as h:
        tickets = [(await h.take()).json() for _ in range(4)]
        for minute, window in ((5, "A01"), (6, "A02")):
            h.clock.set(WORKDAY, f"10:{minute:02d}")
            await h.post(f"/windows/{window}/call-next", staff(window))
        await h.post(f"/tickets/{tickets[0]['id']}/start", staff("A01"))
        h.clock.set(WORKDAY, "10:15")
        await h.post(f"/tickets/{tickets[0]['id']}/finish", staff("A01"))
        await h.post(f"/tickets/{tickets[1]['id']}/no-show", staff("A02"))
        h.clock.set(WORKDAY, "11:20")
        await h.post("/windows/A01/call-next", staff("A01"))
        await h.post(f"/tickets/{tickets[2]['id']}/transfer", staff("A01"), {"queue_code": "B"})
        figures = await h.client.get(f"/halls/{HALL}/statistics", headers=staff())
        assert figures.status_code == 200, figures.text
        body = figures.json()
        totals = body["totals"]
        assert (totals["issued"], totals["served"], totals["no_shows"], totals["transferred_out"]) == (
            5,
            1,
            1,
            1,
        )
        assert totals["no_show_rate"] == round(1 / 3, 4)
        queue_a = next(q for q in body["queues"] if q["queue_code"] == "A")
        assert (queue_a["wait_p50_s"], queue_a["wait_p90_s"], queue_a["service_p50_s"]) == (360, 4800, 540)
        assert [(w["window_code"], w["served"], w["no_shows"]) for w in body["windows"]] == [
            ("A01", 1, 0),
            ("A02", 0, 1),
        ]
        assert {(r["hour"], r["issued"], r["called"]) for r in body["tickets_per_hour"]} == {
            (10, 4, 2),
            (11, 1, 1),
        }
        bad = await h.client.get(
            f"/halls/{HALL}/statistics",
            params={"date_from": "2026-10-01", "date_to": "2026-09-01"},
            headers=staff(),
        )
        assert (bad.status_code, bad.json()["errors"][0]["rule"]) == (422, "period")
        assert (await h.client.get(f"/halls/{HALL}/statistics", headers=citizen())).status_code == 403
        assert (await h.client.get("/halls/nowhere/statistics", headers=operator())).status_code == 404
