"""The report's figures per department and month: handled, 即办件, 零次跑, 一证通办 and on-time shares."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from intake.hall.clock import CHINA
from intake.models import Application
from servicekit.auth import forbidden
from servicekit.identity import Identity


class Figures(BaseModel):
    department_code: str
    handled: int = Field(description="Applications accepted (受理) in the month")
    instant: int = Field(description="即办件 completed at the window")
    zero_trip: int = Field(description="零次跑: online, and the result not picked up in person")
    one_certificate: int = Field(description="一证通办: nothing but the ID card was needed")
    decided: int
    on_time: int = Field(description="Decided by the promised date")
    instant_share: float
    zero_trip_share: float
    one_certificate_share: float
    on_time_share: float = Field(description="Of those decided")


class Statistics(BaseModel):
    month: str
    departments: list[Figures]
    total: Figures


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _figures(department: str, counts: tuple[int, ...]) -> Figures:
    handled, instant, zero_trip, one_certificate, decided, on_time = counts
    return Figures(
        department_code=department,
        handled=handled,
        instant=instant,
        zero_trip=zero_trip,
        one_certificate=one_certificate,
        decided=decided,
        on_time=on_time,
        instant_share=_share(instant, handled),
        zero_trip_share=_share(zero_trip, handled),
        one_certificate_share=_share(one_certificate, handled),
        on_time_share=_share(on_time, decided),
    )


def _count(condition: sa.ColumnElement[bool] | Mapped[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


async def statistics(
    session: AsyncSession, identity: Identity, month: date, department: str | None
) -> Statistics:
    """A department sees its own row only; hall staff and operators every department's."""
    if identity.kind == "citizen":
        raise forbidden("统计仅供工作人员查看 (staff only)")
    hall_wide = identity.kind == "operator" or (identity.kind == "staff" and identity.window is not None)
    if not hall_wide:
        if identity.department is None or department not in (None, identity.department):
            raise forbidden("只能查看本部门的统计 (a department sees its own figures)")
        department = identity.department
    start = datetime(month.year, month.month, 1, tzinfo=CHINA)
    end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=CHINA)
    a = Application
    query = (
        sa.select(
            a.department_code,
            sa.func.count(),
            _count(a.instant),
            _count(sa.and_(a.channel == "online", sa.func.coalesce(a.delivery_method, "") != "pickup")),
            _count(a.one_certificate),
            _count(a.decision.is_not(None)),
            _count(sa.and_(a.decision.is_not(None), a.on_time.is_(True))),
        )
        .where(a.accepted_at >= start, a.accepted_at < end)
        .group_by(a.department_code)
        .order_by(a.department_code)
    )
    if department is not None:
        query = query.where(a.department_code == department)
    rows = [(str(r[0]), tuple(int(v) for v in r[1:])) for r in await session.execute(query)]
    totals = tuple(sum(counts[i] for _, counts in rows) for i in range(6))
    return Statistics(
        month=f"{month:%Y-%m}",
        departments=[_figures(d, counts) for d, counts in rows],
        total=_figures(department or "all", totals),
    )
