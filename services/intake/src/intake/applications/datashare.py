"""The one synchronous call intake makes: datashare's material resolution (材料预审, 一证通办).

Intake calls as the datashare member `intake` (a system identity without a department, signed with
the internal key like the gateway's header) and names the officer or app that asked. Datashare
being unreachable, slow or refusing is never an error here: every material it would have supplied
comes back as "bring it", with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from servicekit.identity import HEADER, Identity, sign

log = logging.getLogger(__name__)
INTAKE = Identity(kind="system", client_id="intake", scopes=frozenset({"datashare:request"}))
UNAVAILABLE = {
    "datashare_not_configured": "未接入数据共享，请自备该材料 (datashare not configured: bring it)",
    "datashare_unavailable": "数据共享暂不可用，请自备该材料 (datashare unreachable: bring it)",
    "datashare_bad_answer": "数据共享应答无效，请自备该材料 (datashare answered badly: bring it)",
}


@dataclass(frozen=True)
class Verdict:
    supply: str  # datashare: fetched with the case number as purpose; applicant: bring it
    reason: str
    message: str


@dataclass(frozen=True)
class Resolution:
    available: bool
    reference: str | None  # datashare's resolution id: its access log holds the check
    verdicts: dict[str, Verdict]


class _Material(BaseModel):
    name: str
    supply: str
    reason: str
    message: str


class _Answer(BaseModel):
    id: str
    materials: list[_Material]


def unavailable(names: list[str], reason: str, message: str | None = None) -> Resolution:
    text = message or UNAVAILABLE.get(reason) or f"数据共享拒绝 ({reason})，请自备该材料 (bring it)"
    return Resolution(False, None, {n: Verdict("applicant", reason, text) for n in names})


class DatashareClient:
    def __init__(
        self,
        base_url: str | None,
        key: bytes,
        timeout_s: float = 3.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._key = key
        self._client = (
            None
            if base_url is None
            else httpx.AsyncClient(base_url=base_url, timeout=timeout_s, transport=transport)
        )

    async def resolve(
        self,
        *,
        subject_id: str,
        item_id: str,
        item_version: int,
        materials: list[dict[str, Any]],
        officer: str,
    ) -> Resolution:
        """Ask which of `materials` (each with a certificate type) datashare supplies for the subject."""
        names = [m["name"] for m in materials]
        if not materials:
            return Resolution(True, None, {})
        if self._client is None:
            return unavailable(names, "datashare_not_configured")
        body = {
            "subject_id": subject_id,
            "item_id": item_id,
            "item_version": item_version,
            "officer": officer[:60],
            "materials": [
                {"name": m["name"], "required": m["required"], "certificate_type": m["certificate_type"]}
                for m in materials
            ],
        }
        try:
            response = await self._client.post(
                "/resolutions", json=body, headers={HEADER: sign(INTAKE, self._key)}
            )
        except httpx.HTTPError as exc:
            log.warning("datashare unreachable for a pre-check: %s", type(exc).__name__)
            return unavailable(names, "datashare_unavailable")
        if response.status_code != 200:
            return unavailable(names, _problem_code(response))
        try:
            answer = _Answer.model_validate_json(response.content)
        except ValidationError:
            return unavailable(names, "datashare_bad_answer")
        verdicts = {m.name: Verdict(m.supply, m.reason, m.message) for m in answer.materials}
        unanswered = unavailable(names, "datashare_bad_answer").verdicts
        return Resolution(True, answer.id, {n: verdicts.get(n, unanswered[n]) for n in names})

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _problem_code(response: httpx.Response) -> str:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        code = None
    return str(code) if isinstance(code, str) and code else "datashare_unavailable"
