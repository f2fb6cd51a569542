"""Demo data for the embedded mode: the Wucheng hall (婺城区行政服务中心), its windows, queues and a week of slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.hall import setup, slots
from intake.hall.models import Hall
from intake.hall.schemas import HallCreate, HoursRule, QueueCreate, SlotsCreate, WindowCreate

HALL_ID = "wucheng"
COMPREHENSIVE = [f"A{n:02d}" for n in range(1, 9)]
SUMMER, WINTER = [5, 6, 7, 8, 9], [10, 11, 12, 1, 2, 3, 4]
LUNCH_AND_EVENING = ["A01", "A02", "E01"]
# The hours the catalogue's departments publish (夏令时 / 冬令时, Saturday 错时 for 社保医保, 户籍 and
# 不动产), plus a lunchtime 错时 and an evening 延时 at two comprehensive windows and the output window.
HOURS = [
    HoursRule(kind="regular", start="08:30", end="12:00"),
    HoursRule(kind="regular", start="14:30", end="17:30", months=SUMMER),
    HoursRule(kind="regular", start="14:00", end="17:00", months=WINTER),
    HoursRule(kind="offpeak", start="12:00", end="14:00", windows=LUNCH_AND_EVENING),
    HoursRule(kind="offpeak", weekday=5, start="09:00", end="12:00", windows=["A01", "A02", "B01", "C01"]),
    HoursRule(kind="extended", start="17:30", end="18:30", months=SUMMER, windows=LUNCH_AND_EVENING),
    HoursRule(kind="extended", start="17:00", end="18:00", months=WINTER, windows=LUNCH_AND_EVENING),
]
QUEUES = [
    QueueCreate(code="A", name="综合受理", category="综合", is_default=True, default_service_s=480),
    QueueCreate(
        code="B",
        name="公安业务",
        category="公安",
        departments=["wc-gafj", "jh-crj", "jh-cgs"],
        default_service_s=420,
    ),
    QueueCreate(
        code="C", name="不动产登记", category="不动产", departments=["jh-bdcdj"], default_service_s=900
    ),
    QueueCreate(code="D", name="税务", category="税务", departments=["wc-swj"], default_service_s=600),
    QueueCreate(code="E", name="统一出件", category="出件", default_service_s=120),
]
WINDOWS = [
    *(
        WindowCreate(code=c, name=f"综合受理窗口{c}", kind="comprehensive", queues=["A"])
        for c in COMPREHENSIVE
    ),
    WindowCreate(code="B01", name="公安窗口B01", kind="special", department_code="wc-gafj", queues=["B"]),
    WindowCreate(code="B02", name="公安窗口B02", kind="special", department_code="wc-gafj", queues=["B"]),
    WindowCreate(code="C01", name="不动产窗口C01", kind="special", department_code="jh-bdcdj", queues=["C"]),
    WindowCreate(code="C02", name="不动产窗口C02", kind="special", department_code="jh-bdcdj", queues=["C"]),
    WindowCreate(code="D01", name="税务窗口D01", kind="special", department_code="wc-swj", queues=["D"]),
    WindowCreate(code="E01", name="出件窗口E01", kind="output", queues=["E"]),
]
SLOT_TIMES = [
    "09:00",
    "09:30",
    "10:00",
    "10:30",
    "11:00",
    "11:30",
    "14:00",
    "14:30",
    "15:00",
    "15:30",
    "16:00",
]
SLOT_CAPACITY = {"A": 4, "B": 2, "C": 2, "D": 2}


async def load_demo_hall(sessions: async_sessionmaker[AsyncSession], today: date) -> int:
    """The hall, its queues and windows, and slots from `today` for a week; returns slots made.

    Does nothing (returns 0) when the hall exists already, so every start of `make run` may call it.
    """
    async with sessions() as session:
        if await session.get(Hall, HALL_ID) is not None:
            return 0
    now = datetime.now(UTC)
    hall = HallCreate(
        id=HALL_ID, name="婺城区行政服务中心", address="浙江省金华市婺城区宾虹西路2666号", hours=HOURS
    )
    async with sessions() as session:
        await setup.create_hall(session, hall, now)
    for queue in QUEUES:
        async with sessions() as session:
            await setup.create_queue(session, HALL_ID, queue)
    for window in WINDOWS:
        async with sessions() as session:
            await setup.create_window(session, HALL_ID, window, now)
    made = 0
    for code, capacity in SLOT_CAPACITY.items():
        week = SlotsCreate(
            queue_code=code,
            date_from=today,
            date_to=today + timedelta(days=6),
            start_times=SLOT_TIMES,
            capacity=capacity,
        )
        async with sessions() as session:
            made += (await slots.create_slots(session, HALL_ID, week)).created
    return made
