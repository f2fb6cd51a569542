"""Calendar days as Wucheng counts them: validity dates and consent expiry are days in China (UTC+8)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def today() -> date:
    """Today in China; a server clock in UTC would still be on yesterday until 08:00."""
    return datetime.now(CHINA).date()
