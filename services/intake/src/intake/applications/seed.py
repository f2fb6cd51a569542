"""Demo data of applications: the bad-credit list (失信名单) that 容缺受理 consults, made-up entries.

A real deployment loads the list from the credit platform (信用中国/信用浙江) instead; the table and
its use are the same. The entries: a made-up resident, and 婺城区兴旺建材商行 of datashare's demo
(its licence is revoked there too).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.applications.models import BadCreditEntry

DEMO_BAD_CREDIT = [
    ("33070219820303001X", "拒不履行法院生效判决（演示数据）", "演示：失信被执行人名单"),
    ("91330702MA20005K54", "虚假承诺未履行（演示数据）", "演示：信用浙江严重失信名单"),
]


async def load_demo_bad_credit(sessions: async_sessionmaker[AsyncSession], today: date) -> int:
    """The demo entries, once: nothing is added when the list already has any."""
    async with sessions() as session, session.begin():
        if await session.scalar(sa.select(sa.func.count()).select_from(BadCreditEntry)):
            return 0
        for subject_id, reason, source in DEMO_BAD_CREDIT:
            session.add(
                BadCreditEntry(
                    subject_id=subject_id, reason=reason, source=source, listed_on=today, expires_on=None
                )
            )
    return len(DEMO_BAD_CREDIT)
