"""Setting up halls, queues and windows; the opening calendar; the Wucheng demo hall."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from intake.db import MIGRATIONS_DIR
from intake.hall import hours
from intake.hall.clock import CHINA
from intake.hall.seed import HALL_ID, load_demo_hall
from intake.main import create_app
from servicekit.testing import TEST_KEY, app_client, migrate

from .test_hall_support import HALL, HOURS, citizen, hall, operator, staff

SATURDAY_OFFPEAK = [
    *HOURS,
    {"kind": "offpeak", "weekday": 5, "start": "09:00", "end": "12:00", "windows": ["A01"]},
]


def _at(day: date, hhmm: str) -> datetime:
    hour, minute = hhmm.split(":")
    return datetime.combine(day, datetime.min.time(), CHINA).replace(hour=int(hour), minute=int(minute))


@pytest.mark.parametrize(
    ("day", "hhmm", "windows", "expected"),
    [
        (date(2026, 9, 30), "10:00", None, True),  # a Wednesday
        (date(2026, 9, 30), "12:30", None, False),  # lunch
        (date(2026, 9, 30), "17:30", ["A01"], True),  # 延时 at A01
        (date(2026, 9, 30), "17:30", ["A02"], False),
        (date(2026, 10, 1), "10:00", None, False),  # National Day
        (date(2026, 10, 3), "10:00", ["A01"], False),  # a Saturday inside the holiday: no 错时
        (date(2026, 10, 10), "15:00", ["A02"], True),  # 调休: a Saturday worked as a weekday
        (date(2026, 10, 17), "10:00", ["A01"], True),  # an ordinary Saturday: 错时 at A01
        (date(2026, 10, 17), "10:00", ["A02"], False),
        (date(2026, 10, 17), "15:00", ["A01"], False),
    ],
)
def test_opening_hours_follow_the_chinese_calendar(
    day: date, hhmm: str, windows: list[str] | None, expected: bool
) -> None:
    assert hours.is_open(SATURDAY_OFFPEAK, _at(day, hhmm), windows) is expected


def test_closing_time_and_the_next_opening_day() -> None:
    assert hours.closing_at(HOURS, date(2026, 9, 30)) == _at(date(2026, 9, 30), "18:00")
    assert hours.closing_at(HOURS, date(2026, 10, 1)) is None
    assert hours.next_opening_day(HOURS, date(2026, 9, 30)) == date(2026, 10, 8)
    assert hours.next_opening(HOURS, _at(date(2026, 9, 30), "07:00")) == _at(date(2026, 9, 30), "08:30")
    assert hours.next_opening(HOURS, _at(date(2026, 9, 30), "12:10")) == _at(date(2026, 9, 30), "14:00")
    assert hours.next_opening(HOURS, _at(date(2026, 9, 30), "18:10")) == _at(date(2026, 10, 8), "08:30")
    assert hours.next_opening_day(SATURDAY_OFFPEAK, date(2026, 10, 16)) == date(2026, 10, 17)
    summer = [{"kind": "regular", "start": "14:30", "end": "17:30", "months": [5, 6, 7, 8, 9]}]
    assert hours.is_open(summer, _at(date(2026, 9, 30), "17:15"))
    assert not hours.is_open(summer, _at(date(2026, 10, 8), "17:15"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "Bad Id"}, "id"),
        ({"hours": []}, "hours"),
        ({"hours": [{"kind": "regular", "start": "17:00", "end": "08:30"}]}, "hours.0"),
        ({"hours": [{"kind": "regular", "start": "8:30", "end": "12:00"}]}, "hours.0.start"),
        ({"hours": [{"kind": "night", "start": "08:30", "end": "12:00"}]}, "hours.0.kind"),
        ({"max_calls": 0}, "max_calls"),
        ({"name": "大厅\x00"}, "name"),
    ],
)
async def test_bad_halls_are_refused(tmp_path: Path, change: dict[str, Any], field: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    await migrate(MIGRATIONS_DIR, url)
    async with app_client(create_app(url, TEST_KEY)) as client:
        body = {"id": "a-hall", "name": "大厅", "hours": HOURS, **change}
        refused = await client.post("/halls", json=body, headers=operator())
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field
        assert (await client.get("/halls", headers=citizen())).json() == []


async def test_queues_and_windows_are_checked_and_only_operators_set_them_up(db_url: str) -> None:
    async with hall(db_url) as h:
        shown = (await h.client.get(f"/halls/{HALL}", headers=citizen())).json()
        assert [q["code"] for q in shown["queues"]] == ["A", "B"]
        assert [w["code"] for w in shown["windows"]] == ["A01", "A02", "B01"]
        assert (await h.client.get("/halls/nowhere", headers=citizen())).status_code == 404
        again = await h.post("/halls", operator(), {"id": HALL, "name": "重复", "hours": HOURS})
        assert (again.status_code, again.json()["errors"][0]["rule"]) == (409, "unique")
        second_default = {"code": "C", "name": "另一个", "category": "综合", "is_default": True}
        refused = await h.post(f"/halls/{HALL}/queues", operator(), second_default)
        assert (refused.status_code, refused.json()["errors"][0]["rule"]) == (409, "one_default")
        assert (
            await h.post("/halls/nowhere/queues", operator(), {**second_default, "is_default": False})
        ).status_code == 404
        window = {"code": "C01", "name": "窗口", "kind": "special", "queues": ["C"]}
        unknown = await h.post(f"/halls/{HALL}/windows", operator(), window)
        assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "queues")
        duplicate = await h.post(
            f"/halls/{HALL}/windows", operator(), {**window, "code": "A01", "queues": ["A"]}
        )
        assert duplicate.status_code == 409
        assert (
            await h.post(f"/halls/{HALL}/windows", staff(), {**window, "queues": ["A"]})
        ).status_code == 403
        renamed = await h.client.patch("/windows/A02", json={"name": "综合窗口二"}, headers=operator())
        assert renamed.json()["name"] == "综合窗口二"
        assert (
            await h.client.patch("/windows/Z99", json={"name": "x"}, headers=operator())
        ).status_code == 404
        long_span = {
            "queue_code": "A",
            "date_from": "2026-01-01",
            "date_to": "2026-03-01",
            "start_times": ["09:00"],
            "capacity": 1,
        }
        assert (await h.post(f"/halls/{HALL}/slots", operator(), long_span)).status_code == 422
        no_queue = {**long_span, "queue_code": "Z", "date_to": "2026-01-02"}
        assert (await h.post(f"/halls/{HALL}/slots", operator(), no_queue)).status_code == 422
        bad_list = await h.client.get(f"/halls/{HALL}/slots", params={"queue_code": "a1"}, headers=citizen())
        assert bad_list.status_code == 422


async def test_the_wucheng_demo_hall(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    await migrate(MIGRATIONS_DIR, url)
    app = create_app(url, TEST_KEY)
    async with app_client(app) as client:
        # From Monday 09-28: slots on 09-28, 09-29, 09-30 only (then National Day, Saturday inside it)
        made = await load_demo_hall(app.state.sessions, date(2026, 9, 28))
        assert made > 0
        assert await load_demo_hall(app.state.sessions, date(2026, 9, 28)) == 0
        shown = (await client.get(f"/halls/{HALL_ID}", headers=citizen())).json()
        assert shown["name"] == "婺城区行政服务中心"
        codes = [w["code"] for w in shown["windows"]]
        assert [c for c in codes if c.startswith("A")] == [f"A{n:02d}" for n in range(1, 9)]
        assert {w["kind"] for w in shown["windows"]} == {"comprehensive", "special", "output"}
        slots = (
            await client.get(
                f"/halls/{HALL_ID}/slots", params={"date_from": "2026-09-28", "days": 7}, headers=citizen()
            )
        ).json()
        assert len(slots) == made
        assert {s["slot_date"] for s in slots} == {"2026-09-28", "2026-09-29", "2026-09-30"}
        assert {s["queue_code"] for s in slots} == {"A", "B", "C", "D"}
        assert "14:00" not in {s["start_time"] for s in slots}  # summer afternoons begin at 14:30
