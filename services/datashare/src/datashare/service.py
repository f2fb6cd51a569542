"""Datashare use cases."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from datashare.models import Certificate
from servicekit.problems import not_found


async def get_certificate(session: AsyncSession, certificate_id: str) -> Certificate:
    certificate = await session.get(Certificate, certificate_id)
    if certificate is None:
        raise not_found("证照 certificate", certificate_id)
    return certificate
