"""The journal of a use case: history rows (who, when, why), its events and its new rows, written at once.

Status changes, events and the rows that reference an application are collected while the use case
decides, then written in foreign-key order in a few statements: a new application goes in first (as
one Core insert, see submission), then the history rows as one insert, the new rows, the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Event, EventData, new_event
from intake.applications.models import StatusChange
from intake.models import Application, Base
from messaging.outbox import add_event
from servicekit.logs import request_id_var

SOURCE = "/intake"
_INSERT_HISTORY = sa.insert(StatusChange.__table__)  # type: ignore[arg-type]

# What the applicant reads for each step of the history (进度查询).
STATUS_TEXT = {
    "submitted": "已提交，待窗口受理",
    "accepted": "已受理",
    "rongque_accepted": "容缺受理（材料待补）",
    "returned": "材料不全，已一次性告知",
    "refused": "不予受理",
    "processing": "部门办理中",
    "suspended": "暂停计时（补正或特殊环节）",
    "resumed": "恢复办理",
    "supplied": "容缺材料已补齐",
    "terminated": "已终止",
    "approved": "准予办理",
    "rejected": "不予许可",
    "ready": "办理结果待领取",
    "dispatched": "办理结果已寄出",
    "in_transit": "运输中",
    "delivery_failed": "投递未成功",
    "pickup_refused": "取件码核验未通过",
    "delivered": "办理结果已送达",
}


@dataclass
class Journal:
    history: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    rows: list[Base] = field(default_factory=list)

    def note(
        self,
        application_id: str,
        status: str,
        now: datetime,
        actor: str,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """A history row without a change of the current status (e.g. 容缺 materials supplied)."""
        self.history.append(
            {
                "application_id": application_id,
                "status": status,
                "at": now,
                "actor": actor[:100],
                "reason": None if reason is None else reason[:500],
                "detail": detail,
            }
        )

    def move(
        self,
        application: Application,
        status: str,
        now: datetime,
        actor: str,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
        recorded_as: str | None = None,
    ) -> None:
        """Change the status and record it; `recorded_as` names the step when it says more (容缺受理)."""
        application.status, application.status_changed_at = status, now
        self.note(application.id, recorded_as or status, now, actor, reason, detail)

    def publish(self, event_type: str, application: Application, data: EventData) -> None:
        """An event about the application, keyed by its id on `intake.applications`."""
        event = new_event(
            type=event_type, source=SOURCE, subject=application.id, data=data, requestid=request_id_var.get()
        )
        self.events.append(event)

    def add(self, row: Base) -> None:
        """A new row referencing the application, added after the application itself is written."""
        self.rows.append(row)

    async def write(self, session: AsyncSession) -> None:
        session.add_all(self.rows)
        if self.history:
            await session.execute(_INSERT_HISTORY, self.history)
        for event in self.events:
            await add_event(session, event)
        self.history, self.events, self.rows = [], [], []
