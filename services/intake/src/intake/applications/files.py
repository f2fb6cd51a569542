"""Uploaded material files: type by content (PDF, JPEG, PNG), size limit, SHA-256, where they are kept.

By default the content is a column of `stored_file`: it commits with the application, is in every
backup, and works the same on SQLite (embedded) and PostgreSQL. With INTAKE_FILES_DIR set it goes
to that directory instead, content-addressed (`ab/abcdef…`), written before the row commits: a
file without a row is harmless, a row never points at nothing, and equal files are stored once.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications.models import StoredFile
from intake.applications.schemas import MaterialGiven
from intake.hall.rules import broken_rule, invalid
from servicekit.identity import Identity

SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}
GENERIC = {"application/octet-stream", ""}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def sniff(head: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if head.startswith(magic)), None)


def _write(directory: Path, sha256: str, content: bytes) -> None:
    target = directory / sha256[:2] / sha256
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{uuid.uuid4().hex}.part")
    partial.write_bytes(content)
    os.replace(partial, target)  # atomic: a reader never sees half a file


async def store_upload(
    session: AsyncSession,
    identity: Identity,
    upload: UploadFile,
    max_bytes: int,
    files_dir: str | None,
    now: datetime,
) -> StoredFile:
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise broken_rule(
            413, "file_too_large", "文件过大 File too large",
            f"文件不得超过 {max_bytes // 1024} KiB (at most {max_bytes} bytes)", "file", "max_size",
        )  # fmt: skip
    if not content:
        raise invalid("file_empty", "文件为空 (empty file)", "file", "not_empty")
    kind = sniff(content[:8])
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if kind is None or (declared not in GENERIC and declared != kind):
        raise broken_rule(
            415, "file_type_not_allowed", "文件类型不支持 Unsupported type",
            f"只接受 PDF、JPEG、PNG，且声明类型须与内容一致 (PDF, JPEG or PNG; declared {declared or 'none'})",
            "file", "pdf_jpeg_png",
        )  # fmt: skip
    sha256 = hashlib.sha256(content).hexdigest()
    if files_dir is not None:
        await asyncio.to_thread(_write, Path(files_dir), sha256, content)
    stored = StoredFile(
        id=uuid.uuid4().hex,
        sha256=sha256,
        size=len(content),
        content_type=kind,
        filename=CONTROL.sub("", upload.filename or "")[:200] or None,
        uploader_client=identity.client_id[:100],
        uploader_citizen=identity.citizen_id if identity.kind == "citizen" else None,
        stored_in="dir" if files_dir is not None else "db",
        content=None if files_dir is not None else content,
        created_at=now,
    )
    async with session.begin():
        session.add(stored)
    return stored


def _uploaded_by(identity: Identity, stored: StoredFile) -> bool:
    if identity.kind == "operator":
        return True
    if identity.kind == "citizen":
        return stored.uploader_citizen == identity.citizen_id
    return stored.uploader_client == identity.client_id


async def check_files(
    session: AsyncSession, identity: Identity, given: list[MaterialGiven], field: str
) -> dict[str, StoredFile]:
    """The files the materials name; each must exist and be the caller's own upload."""
    wanted = {m.file_id for m in given if m.file_id is not None}
    if not wanted:
        return {}
    found = {f.id: f for f in await session.scalars(sa.select(StoredFile).where(StoredFile.id.in_(wanted)))}
    for n, material in enumerate(given):
        stored = found.get(material.file_id or "")
        if material.file_id is not None and (stored is None or not _uploaded_by(identity, stored)):
            raise invalid(
                "unknown_file",
                f"文件 {material.file_id} 不存在或不是本人上传 (upload it first with POST /files)",
                f"{field}.{n}.file_id",
                "own_upload",
            )
    return found


async def file_content(stored: StoredFile, session: AsyncSession, files_dir: str | None) -> bytes:
    if stored.stored_in == "db":
        content = await session.scalar(sa.select(StoredFile.content).where(StoredFile.id == stored.id))
        return content or b""
    if files_dir is None:
        raise broken_rule(
            503, "files_dir_missing", "文件目录未配置 Files directory missing",
            "文件保存在文件目录中，但本实例未配置 INTAKE_FILES_DIR", "file_id", "files_dir",
        )  # fmt: skip
    return await asyncio.to_thread((Path(files_dir) / stored.sha256[:2] / stored.sha256).read_bytes)
