"""Federated providers: registries that answer live over HTTP, called with a timeout (contract in README)."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from datashare.evidence.decision import Held

MAX_ANSWER_BYTES = 64 * 1024


class ProviderFailure(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class ProviderCertificate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    number: str = Field(min_length=1, max_length=60)
    subject_id: str = Field(min_length=1, max_length=18)
    issuer_code: str = Field(min_length=1, max_length=40)
    issued_on: date
    valid_until: date | None = None
    status: Literal["valid", "revoked", "expired"] = "valid"
    holder_name: str | None = Field(default=None, max_length=100)
    fields: dict[str, str] = Field(default_factory=dict, max_length=50)


class ProviderAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    found: bool
    certificate: ProviderCertificate | None = None


def _parse(body: bytes, certificate_type: str, subject_id: str) -> Held | None:
    try:
        answer = ProviderAnswer.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        raise ProviderFailure("provider_bad_answer", f"unreadable answer: {type(exc).__name__}") from None
    if not answer.found:
        return None
    certificate = answer.certificate
    if certificate is None:
        raise ProviderFailure("provider_bad_answer", "found without a certificate")
    if certificate.subject_id.strip().upper() != subject_id:
        # A registry that answers about someone else must never have that released.
        raise ProviderFailure("provider_bad_answer", "the answer is about another subject")
    if certificate.valid_until is not None and certificate.valid_until < certificate.issued_on:
        raise ProviderFailure("provider_bad_answer", "valid_until before issued_on")
    return Held(certificate_type=certificate_type, **{**certificate.model_dump(), "subject_id": subject_id})


class ProviderClient:
    """One pooled HTTP client per process (created on first use inside the running loop)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"User-Agent": "wucheng-datashare/1"})
        return self._session

    async def fetch(self, url: str, timeout_ms: int, query: dict[str, Any]) -> Held | None:
        """The provider's certificate, None when it has none, ProviderFailure otherwise.

        POST `query` as JSON; 200 `{"found": true, "certificate": {...}}` or `{"found": false}`
        (or 404) is an answer, anything else, late or about another subject is the provider's fault.
        """
        timeout = aiohttp.ClientTimeout(total=timeout_ms / 1000)
        try:
            async with self._client().post(
                url, json=query, timeout=timeout, allow_redirects=False
            ) as response:
                if response.status == 404:
                    return None
                if response.status != 200:
                    raise ProviderFailure("provider_unavailable", f"HTTP {response.status}")
                body = bytearray()
                async for chunk in response.content.iter_chunked(16 * 1024):
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise ProviderFailure("provider_bad_answer", "answer too large")
        except TimeoutError:
            raise ProviderFailure("provider_timeout", f"no answer within {timeout_ms} ms") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ProviderFailure("provider_unavailable", type(exc).__name__) from None
        return _parse(bytes(body), query["certificate_type"], query["subject_id"])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            # aiohttp needs a moment to close its transports cleanly.
            await asyncio.sleep(0)
