"""Kannel's HTTP `sendsms` interface, and its delivery reports (dlr-url callbacks) as statuses."""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx

from notify.channels import (
    DELIVERED,
    PERMANENT_FAILURE,
    SENDING,
    TECHNICAL_FAILURE,
    TEMPORARY_FAILURE,
    Outcome,
    retry_later,
)

# httpx logs each request URL at INFO, and a sendsms URL carries the phone number and password.
logging.getLogger("httpx").setLevel(logging.WARNING)

# Kannel DLR types: 1 delivered to phone, 2 not delivered to phone, 4 queued on SMSC,
# 8 delivered to SMSC, 16 not delivered to SMSC. Ask for the final ones and for SMSC rejection.
DLR_MASK = 1 | 2 | 16


def dlr_outcome(dlr_type: int, reply: str) -> Outcome | None:
    """The status a delivery report means (GOV.UK Notify's mapping); None for interim reports."""
    if dlr_type == 1:
        return Outcome(DELIVERED)
    if dlr_type == 2:
        # The SMSC's receipt text carries the SMPP state: EXPIRED may succeed on a later try.
        if "EXPIRED" in reply.upper():
            return Outcome(TEMPORARY_FAILURE, f"短信过期未送达 (expired): {reply}"[:500], retry=True)
        return Outcome(PERMANENT_FAILURE, f"短信无法送达 (undeliverable): {reply}"[:500])
    if dlr_type == 16:
        return Outcome(TEMPORARY_FAILURE, f"短信中心拒收 (rejected by the SMSC): {reply}"[:500], retry=True)
    return None


class KannelProvider:
    name = "kannel"

    def __init__(
        self,
        sendsms_url: str,
        username: str,
        password: str,
        callback_base_url: str,
        *,
        sender: str = "10690000",
        timeout_s: float = 10.0,
    ) -> None:
        self._url = sendsms_url
        self._auth = {"username": username, "password": password}
        self._callback_base = callback_base_url.rstrip("/")
        self._sender = sender
        self._client = httpx.AsyncClient(timeout=timeout_s)

    def dlr_url(self, message_id: str, token: str) -> str:
        # Kannel fills %d (report type), %A (SMSC reply text) and %F (the SMSC's message id).
        return (
            f"{self._callback_base}/callbacks/kannel/{quote(message_id)}"
            f"?token={quote(token)}&type=%d&reference=%F&reply=%A"
        )

    async def send(self, phone: str, text: str, message_id: str, callback_token: str | None) -> Outcome:
        params = {
            **self._auth,
            "from": self._sender,
            "to": phone,
            "text": text,
            "charset": "UTF-8",
            "coding": "2",  # UCS-2: Chinese text
        }
        if callback_token is not None:
            params |= {"dlr-mask": str(DLR_MASK), "dlr-url": self.dlr_url(message_id, callback_token)}
        try:
            response = await self._client.get(self._url, params=params)
        except httpx.HTTPError as exc:
            return retry_later(f"短信网关不可达 (Kannel unreachable): {type(exc).__name__}: {exc}"[:500])
        answer = response.text.strip()[:300]
        if response.status_code == 202:
            # "0: Accepted for delivery", or "3: Queued for later delivery" while the SMSC is away.
            return Outcome(SENDING, None if answer.startswith("0:") else f"Kannel: {answer}")
        if response.status_code >= 500:
            return retry_later(f"短信网关错误 (Kannel {response.status_code}): {answer}")
        if "denied" in answer:
            return Outcome(PERMANENT_FAILURE, f"号码被短信网关拒绝 (number refused by Kannel): {answer}")
        return Outcome(TECHNICAL_FAILURE, f"短信网关拒绝请求 (Kannel {response.status_code}): {answer}")

    async def close(self) -> None:
        await self._client.aclose()
