"""SMS: the provider interface (Kannel today, a cloud SMS API can be added) and number checks."""

from __future__ import annotations

from typing import Protocol

from notify.channels import PERMANENT_FAILURE, Outbound, Outcome
from notify.preferences import InvalidContact, normalise_mobile


class SmsProvider(Protocol):
    """An SMS gateway. `send` hands one message over; delivery reports arrive later by callback."""

    name: str

    async def send(self, phone: str, text: str, message_id: str, callback_token: str | None) -> Outcome: ...

    async def close(self) -> None: ...


class SmsChannel:
    """Checks the number again (the contact book may hold an old one), then asks the provider."""

    concurrency = 16

    def __init__(self, provider: SmsProvider) -> None:
        self._provider = provider
        self.provider = provider.name

    async def send(self, message: Outbound) -> Outcome:
        try:
            phone = normalise_mobile(message.address)
        except InvalidContact as exc:
            return Outcome(PERMANENT_FAILURE, str(exc))
        return await self._provider.send(phone, message.body, message.message_id, message.callback_token)

    async def close(self) -> None:
        await self._provider.close()
