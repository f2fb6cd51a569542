"""Courier adapters (证照快递送达): hand a result over, get a tracking number; statuses come back later.

No real courier API is reachable from here, so the adapter shipped is `LocalCourier`: it books the
shipment in intake's own database and issues UPU S10 tracking numbers (the format EMS uses, with
its check digit); the delivery statuses arrive through POST /courier/events as a courier's
callback would. A real adapter implements `Courier.dispatch` against the courier's API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications.caseno import next_serial

_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


@dataclass(frozen=True)
class Shipment:
    case_number: str
    recipient_name: str
    recipient_phone: str
    address: str


@dataclass(frozen=True)
class Dispatched:
    courier: str
    tracking_number: str


class Courier(Protocol):
    name: str

    async def dispatch(self, session: AsyncSession, shipment: Shipment) -> Dispatched: ...


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of an 8-digit serial."""
    remainder = 11 - sum(int(d) * w for d, w in zip(serial, _WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(remainder, remainder)


def tracking_number(serial: int, prefix: str = "EA", country: str = "CN") -> str:
    digits = f"{serial:08d}"
    return f"{prefix}{digits}{s10_check_digit(digits)}{country}"


class LocalCourier:
    """Books the shipment locally (in the caller's transaction) with a fresh S10 tracking number."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def dispatch(self, session: AsyncSession, shipment: Shipment) -> Dispatched:
        serial = await next_serial(session, "courier:EA")
        return Dispatched(self.name, tracking_number(serial))
