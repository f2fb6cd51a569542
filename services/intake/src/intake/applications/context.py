"""What the application use cases share per app: settings, the datashare client, the courier, calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

import httpx
from fastapi import Depends, Request
from workcalendar import Calendar, default_calendar

from intake.applications.courier import Courier, LocalCourier
from intake.applications.datashare import DatashareClient
from intake.applications.items import ItemVersions
from intake.hall.clock import CHINA
from intake.settings import ApplicationOptions

WORKING_DAYS, CALENDAR_DAYS = "工作日", "自然日"


@dataclass
class Context:
    options: ApplicationOptions
    datashare: DatashareClient
    courier: Courier
    calendar: Calendar
    items: ItemVersions

    def promised_date(self, accepted: date, days: int, unit: str) -> date:
        """承诺办结日期: working days skip holidays and count 调休 days; calendar days roll off holidays."""
        if unit == CALENDAR_DAYS:
            return self.calendar.next_working_day(accepted + timedelta(days=days))
        return self.calendar.add_working_days(accepted, days)


def china_date(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def get_context(request: Request) -> Context:
    context: Context = request.app.state.applications
    return context


ContextDep = Annotated[Context, Depends(get_context)]


def build_context(
    options: ApplicationOptions, internal_key: bytes, transport: httpx.AsyncBaseTransport | None = None
) -> Context:
    """`transport` reaches datashare in this process (the embedded mode) instead of over the network."""
    url = "http://datashare" if transport is not None else options.datashare_url
    datashare = DatashareClient(url, internal_key, options.datashare_timeout_s, transport)
    courier = LocalCourier(options.courier_name)
    return Context(options, datashare, courier, default_calendar(), ItemVersions(options.item_cache_s))
