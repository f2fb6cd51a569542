"""Pre-check without datashare, uploads, 一件事 bundles, and case numbers under concurrency."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from pathlib import Path
from typing import Any

from intake.settings import ApplicationOptions

from .applications_support import ELDERLY_CARD, LI, LICENCE, PASSPORT, SUBSIDY, WANG, citizen, intake, window
from .test_applications_submit import PDF, upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nobody listens once the socket is closed


async def test_precheck_says_per_material_to_bring_it_when_datashare_is_unreachable(db_url: str) -> None:
    options = ApplicationOptions(datashare_url=f"http://127.0.0.1:{closed_port()}", datashare_timeout_s=1)
    async with intake(db_url, options) as t:
        body = {"item_id": SUBSIDY.item_id, "subject_id": WANG}
        answer = await t.post("/prechecks", citizen(), body)
        assert answer.status_code == 201, answer.text
        result = answer.json()
        assert (result["datashare_available"], result["one_certificate"]) == (False, False)
        statuses = {m["name"]: (m["status"], m["reason"]) for m in result["materials"]}
        assert statuses == {
            "居民身份证": ("provided", "identity_document"),
            "居民户口簿": ("missing", "datashare_unavailable"),
            "养老服务补贴申请表": ("rongque", "not_given"),
            "收入情况说明": ("rongque", "not_given"),
        }
        assert result["materials"][1]["message"].startswith("数据共享暂不可用")
        assert result["materials"][2]["sample"] == "养老服务补贴申请表的填写样稿"
        # Submitting without the pre-check asks datashare again: still "bring it", so 一次性告知.
        returned = await t.apply(citizen())
        assert (returned.status_code, returned.json()["status"]) == (201, "returned")
        # An ID-card-only situation needs nobody: 一证通办.
        card = await t.post(
            "/prechecks",
            citizen(),
            {"item_id": ELDERLY_CARD.item_id, "situation_code": "s1", "subject_id": WANG},
        )
        assert (card.json()["one_certificate"], card.json()["to_bring"]) == (True, [])
        # Bad input: someone else's number, an invalid one, a retired item.
        assert (await t.post("/prechecks", citizen(), {**body, "subject_id": LI})).status_code == 403
        invalid = await t.post("/prechecks", window(), {**body, "subject_id": "330702195003150012"})
        assert (invalid.status_code, invalid.json()["errors"][0]["field"]) == (422, "subject_id")
        unknown = await t.post("/prechecks", window(), {**body, "item_id": "wc-none"})
        assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_item")
        assert await t.count("precheck") == 2  # refused ones leave nothing


async def test_uploads_are_typed_by_content_and_limited_in_size(db_url: str, tmp_path: Path) -> None:
    options = ApplicationOptions(max_file_bytes=2048, files_dir=str(tmp_path))
    async with intake(db_url, options) as t:
        stored = await upload(t, citizen(), PNG, "image/png")
        assert (stored["sha256"], stored["size"], stored["content_type"]) == (
            hashlib.sha256(PNG).hexdigest(),
            72,
            "image/png",
        )
        assert (tmp_path / stored["sha256"][:2] / stored["sha256"]).read_bytes() == PNG
        cases: list[tuple[bytes, str, int, str]] = [
            (PDF + b"0" * 4096, "application/pdf", 413, "file_too_large"),
            (b"MZ\x90\x00 not a document", "application/pdf", 415, "file_type_not_allowed"),
            (PDF, "image/png", 415, "file_type_not_allowed"),
            (b"", "application/pdf", 422, "file_empty"),
        ]
        for content, kind, status, code in cases:
            response = await t.client.post("/files", files={"file": ("x", content, kind)}, headers=citizen())
            assert (response.status_code, response.json()["code"]) == (status, code), response.text
            assert response.json()["errors"][0]["field"] == "file"
        missing = await t.client.post("/files", headers=citizen())
        assert (missing.status_code, missing.json()["errors"][0]["field"]) == (422, "file")
        assert await t.count("stored_file") == 1


async def test_a_bundle_is_one_submission_of_several_items_to_several_departments(db_url: str) -> None:
    async with intake(db_url) as t:
        rules = await upload(t, window())
        given = [
            {"name": "营业执照", "evidence_ref": "ev-1"},
            {"name": "食品安全管理制度", "file_id": rules["id"]},
        ]
        items: list[dict[str, Any]] = [
            {"item_id": PASSPORT.item_id},
            {"item_id": LICENCE.item_id, "materials": given},
        ]
        body = {"name": "出国经商一件事", "applicant_id": WANG, "applicant_name": "王建国", "items": items}
        key = {"Idempotency-Key": "bundle-1"}
        created = await t.post("/bundles", {**window(), **key}, body)
        assert created.status_code == 201, created.text
        bundle = created.json()
        assert (bundle["status"], len({a["case_number"] for a in bundle["applications"]})) == ("accepted", 2)
        routed = [
            (d["department_code"], d["bundle_id"])
            for k, d in await t.events()
            if k == "intake.application.accepted"
        ]
        assert routed == [("wc-gafj", bundle["id"]), ("wc-scjg", bundle["id"])]
        assert (await t.post("/bundles", {**window(), **key}, body)).json()["id"] == bundle["id"]
        seen = await t.client.get(f"/bundles/{bundle['id']}", headers=citizen())
        assert [a["item_id"] for a in seen.json()["applications"]] == [PASSPORT.item_id, LICENCE.item_id]
        assert (
            await t.client.get(f"/bundles/{bundle['id']}", headers=citizen(LI, "李秀英"))
        ).status_code == 404
        # One bad item refuses the whole bundle: nothing of the other is written.
        broken = {**body, "items": [items[0], {"item_id": "wc-none"}]}
        refused = await t.post("/bundles", window(), broken)
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "items.1.item_id")
        twice = await t.post("/bundles", window(), {**body, "items": [items[0], items[0]]})
        assert (twice.status_code, twice.json()["code"]) == (422, "duplicate_item")
        assert (await t.count("application"), await t.count("bundle")) == (2, 1)


async def test_a_hundred_concurrent_submissions_get_a_hundred_distinct_case_numbers(pg_url: str) -> None:
    async with intake(pg_url) as t:
        answers = await asyncio.gather(*(t.apply(citizen(), item_id=PASSPORT.item_id) for _ in range(100)))
        assert [a.status_code for a in answers] == [201] * 100
        numbers = {a.json()["case_number"] for a in answers}
        prefix = PASSPORT.implementation_code + "20260930"
        assert len(numbers) == 100
        assert {n[: len(prefix)] for n in numbers} == {prefix}
        assert sorted(int(n[len(prefix) :]) for n in numbers) == list(range(1, 101))
