"""Datashare use cases."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from datashare.models import Certificate
from servicekit.identity import Identity
from servicekit.problems import not_found


def may_see(identity: Identity, certificate: Certificate) -> bool:
    """The holder, the issuing department, operators; other departments use evidence requests."""
    if identity.kind == "operator":
        return True
    if identity.kind == "citizen":
        return identity.citizen_id == certificate.subject_id
    return identity.department is not None and identity.department == certificate.issuer_code


async def get_certificate(session: AsyncSession, identity: Identity, certificate_id: str) -> Certificate:
    certificate = await session.get(Certificate, certificate_id)
    # Another holder's certificate answers like a missing one: ids cannot be probed.
    if certificate is None or not may_see(identity, certificate):
        raise not_found("证照 certificate", certificate_id)
    return certificate
