"""App push: a signed webhook to the provincial app (HMAC-SHA256 over timestamp and body)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from notify.channels import DELIVERED, PERMANENT_FAILURE, Outbound, Outcome, retry_later

SIGNATURE_HEADER = "X-Zuiduo-Signature"
TIMESTAMP_HEADER = "X-Zuiduo-Timestamp"
REPLAY_WINDOW_S = 300


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(
    secret: bytes,
    timestamp: str,
    body: bytes,
    given: str,
    *,
    now: float | None = None,
    window_s: int = REPLAY_WINDOW_S,
) -> bool:
    """What the app's endpoint checks: a genuine signature on a request no older than the window."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= window_s and hmac.compare_digest(signature(secret, timestamp, body), given)


class WebhookPushChannel:
    provider = "webhook"
    concurrency = 16

    def __init__(self, url: str, secret: bytes, *, timeout_s: float = 5.0) -> None:
        self._url = url
        self._secret = secret
        self._client = httpx.AsyncClient(timeout=timeout_s)

    async def send(self, message: Outbound) -> Outcome:
        body = json.dumps(
            {
                "message_id": message.message_id,
                "push_id": message.address,
                "title": message.title,
                "body": message.body,
                "case_number": message.case_number,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
            # A retry after a lost answer carries the same key: the app shows the push once.
            "Idempotency-Key": message.message_id,
        }
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return retry_later(f"推送接口超时 (push endpoint timed out): {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return retry_later(
                f"推送接口不可达 (push endpoint unreachable): {type(exc).__name__}: {exc}"[:500]
            )
        if response.is_success:
            return Outcome(DELIVERED, reference=response.headers.get("X-Request-ID"))
        reason = f"推送接口返回 {response.status_code} (push endpoint answered {response.status_code})"
        if response.status_code >= 500 or response.status_code in (408, 429):
            return retry_later(reason)
        return Outcome(PERMANENT_FAILURE, reason)

    async def close(self) -> None:
        await self._client.aclose()
