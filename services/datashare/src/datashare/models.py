"""Datashare tables: members, the evidence catalogue, certificates, access rules, consent, the access log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class Member(Base):
    """A consumer or provider of evidence (X-Road member): a department, a bureau, a platform service."""

    __tablename__ = "member"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    level: Mapped[str] = mapped_column(sa.String(10))  # district / city / platform
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Subsystem(Base):
    """An information system of a member; `client_id` is the gateway client that acts as it."""

    __tablename__ = "subsystem"

    member_code: Mapped[str] = mapped_column(sa.ForeignKey("member.code"), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    client_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CertificateType(Base):
    """An entry of the evidence catalogue (证照目录): who provides the type, its fields and rules."""

    __tablename__ = "certificate_type"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    provider_code: Mapped[str] = mapped_column(sa.ForeignKey("member.code"))
    subject_kind: Mapped[str] = mapped_column(sa.String(10))  # person / enterprise
    fields: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    validity: Mapped[str] = mapped_column(sa.String(12))  # long_term / fixed_term
    max_age_days: Mapped[int | None]
    trust_level: Mapped[str] = mapped_column(sa.String(1))  # 材料可信等级 A-D
    consent_required: Mapped[bool]
    endpoint_url: Mapped[str | None] = mapped_column(sa.String(300))  # set: a federated provider
    timeout_ms: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Certificate(Base):
    """A certificate held on behalf of its issuer (电子证照)."""

    __tablename__ = "certificate"
    __table_args__ = (
        sa.UniqueConstraint("certificate_type", "number"),
        sa.Index("ix_certificate_subject", "subject_id", "certificate_type"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    certificate_type: Mapped[str] = mapped_column(sa.String(40))
    number: Mapped[str] = mapped_column(sa.String(60))
    subject_id: Mapped[str] = mapped_column(sa.String(18))
    issuer_code: Mapped[str] = mapped_column(sa.String(40))
    issued_on: Mapped[date]
    valid_until: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(10))  # valid / revoked / expired
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    holder_name: Mapped[str | None] = mapped_column(sa.String(100))
    fields: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    status_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    status_reason: Mapped[str | None] = mapped_column(sa.String(200))


class AccessRule(Base):
    """Consumer C may receive certificate type T, for item I (NULL: for any item).

    No foreign keys on purpose: rules derived from catalogue events may arrive before the member
    or the type is registered, and a rule alone never releases anything.
    """

    __tablename__ = "access_rule"
    __table_args__ = (sa.Index("ix_access_rule_consumer", "consumer_code", "certificate_type"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    consumer_code: Mapped[str] = mapped_column(sa.String(40))
    certificate_type: Mapped[str] = mapped_column(sa.String(40))
    item_id: Mapped[str | None] = mapped_column(sa.String(40))
    item_version: Mapped[int | None]
    source: Mapped[str] = mapped_column(sa.String(10))  # manual / catalog / seed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Consent(Base):
    """A subject's consent (授权) to share one certificate type, optionally narrowed; revocable."""

    __tablename__ = "consent"
    __table_args__ = (sa.Index("ix_consent_subject", "subject_hash", "certificate_type"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    subject_hash: Mapped[str] = mapped_column(sa.String(64))
    subject_mask: Mapped[str] = mapped_column(sa.String(40))
    certificate_type: Mapped[str] = mapped_column(sa.String(40))
    consumer_code: Mapped[str | None] = mapped_column(sa.String(40))
    item_id: Mapped[str | None] = mapped_column(sa.String(40))
    case_number: Mapped[str | None] = mapped_column(sa.String(64))
    given_by: Mapped[str] = mapped_column(sa.String(100))
    given_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AccessLogEntry(Base):
    """One evidence request or resolution, granted or denied: append-only and hash-chained.

    `entry` is the canonical JSON of the record; `hash = sha256(prev_hash || seq as 8 bytes
    big-endian || sha256(entry))`. The other columns repeat the entry for queries; the verifier
    checks that they still agree with it.
    """

    __tablename__ = "access_log"
    __table_args__ = (
        sa.Index("ix_access_log_subject", "subject_hash", "seq"),
        sa.Index("ix_access_log_consumer", "consumer_code", "seq"),
    )

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(sa.String(10))  # evidence / resolution
    consumer_code: Mapped[str] = mapped_column(sa.String(40))
    subsystem_code: Mapped[str | None] = mapped_column(sa.String(40))
    client_id: Mapped[str] = mapped_column(sa.String(100))
    officer: Mapped[str | None] = mapped_column(sa.String(60))
    certificate_type: Mapped[str] = mapped_column(sa.String(400))
    subject_hash: Mapped[str] = mapped_column(sa.String(64))
    subject_mask: Mapped[str] = mapped_column(sa.String(40))
    case_number: Mapped[str | None] = mapped_column(sa.String(64))
    item_id: Mapped[str | None] = mapped_column(sa.String(40))
    outcome: Mapped[str] = mapped_column(sa.String(10))  # granted / denied / checked
    reason: Mapped[str | None] = mapped_column(sa.String(40))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    response_hash: Mapped[str | None] = mapped_column(sa.String(64))
    entry: Mapped[str] = mapped_column(sa.Text)
    prev_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))


class AccessChain(Base):
    """The single-row head of the access log's hash chain: the one place appends serialise on."""

    __tablename__ = "access_chain"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    prev_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))


class SigningKey(Base):
    """Ed25519 keys that signed evidence; public halves stay published after a rotation."""

    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    # Only for a key generated because DATASHARE_SIGNING_KEY was unset (embedded mode, development).
    private_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary(32))
    slot: Mapped[str | None] = mapped_column(sa.String(10), unique=True)  # "generated": at most one
    origin: Mapped[str] = mapped_column(sa.String(10))  # settings / generated
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
