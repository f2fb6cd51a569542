"""The access log and the audit trail: who called what, when, with which outcome, and no personal data."""

from __future__ import annotations

import logging

import httpx
import pytest

from gateway.demo import DEMO_CITIZEN_ID

from .conftest import TokenFor, bearer


async def test_access_and_audit_lines_name_routes_and_callers_never_id_numbers(
    gateway: httpx.AsyncClient, token_for: TokenFor, caplog: pytest.LogCaptureFixture
) -> None:
    citizen = bearer(await token_for("citizen-demo"))
    caplog.set_level(logging.INFO, logger="access")
    caplog.set_level(logging.INFO, logger="audit")
    looked_up = await gateway.get(f"/api/v1/intake/applications/{DEMO_CITIZEN_ID}", headers=citizen)
    assert looked_up.status_code == 404
    applied = await gateway.post(
        "/api/v1/intake/applications",
        json={"item_id": "none", "applicant_id": DEMO_CITIZEN_ID},
        headers={**citizen, "X-Request-ID": "audit-1"},
    )
    assert applied.status_code == 422
    access = [r.getMessage() for r in caplog.records if r.name == "access"]
    audit = [r.getMessage() for r in caplog.records if r.name == "audit"]
    assert access[0].startswith("GET intake/applications/{application_id} 404 ")  # the template only
    assert access[1].startswith("POST intake/applications 422 ")
    assert all("kind=citizen client=citizen-demo" in line for line in access)
    # Reads are not audited; writes are, with the outcome and the request id.
    assert len(audit) == 1
    assert "call=POST intake/applications status=422 request_id=audit-1" in audit[0]
    assert f"who={DEMO_CITIZEN_ID[:6]}" in audit[0]
    assert all(DEMO_CITIZEN_ID not in line for line in access + audit)
