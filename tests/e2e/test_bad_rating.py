"""Journey 4, a bad rating (差评): 不满意 opens the follow-up; supervision shows it until 整改 is recorded.

On the `make stack` topology, through the gateway only, each actor with the credentials it has: the
citizen logged in through the app (SSO assertion exchanged by `zlb-app`), the department's system
(`dept-<code>`), and the platform operator watching over all departments (督查).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from tests.harness import Platform

BACKOFFICE = "/api/v1/backoffice"


async def bearer(platform: Platform, http: httpx.AsyncClient, client_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await platform.system_token(http, client_id)}"}


async def eventually(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], timeout_s: float = 60
) -> Any:
    deadline = time.monotonic() + timeout_s
    while (response := await http.get(path, headers=headers)).status_code != 200:
        assert response.status_code == 404, response.text
        assert time.monotonic() < deadline, f"{path} never appeared"
        await asyncio.sleep(0.3)
    return response.json()


async def followups(
    http: httpx.AsyncClient, headers: dict[str, str], department: str, status: str
) -> set[str]:
    response = await http.get(
        f"{BACKOFFICE}/followups", params={"department_code": department, "status": status}, headers=headers
    )
    assert response.status_code == 200, response.text
    return {f["id"] for f in response.json()}


async def test_a_bad_rating_is_followed_up_until_rectified(platform: Platform) -> None:
    citizen = platform.citizens[-1]
    # A case decided by the district department that took it in (a 上报件 would go up to the city).
    item = await platform.scalar(
        "intake",
        "SELECT item_id FROM catalog_item WHERE item_id = ANY($1::text[]) AND effective_to IS NULL "
        "AND handling_type <> '上报件' ORDER BY item_id LIMIT 1",
        platform.items,
    )
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=30) as http:
        as_citizen = {"Authorization": f"Bearer {await platform.token(http, citizen)}"}
        body = {"item_id": item, "applicant_id": citizen.id_number, "applicant_name": citizen.name}
        applied = await http.post(
            "/api/v1/intake/applications",
            json=body,
            headers={**as_citizen, "Idempotency-Key": f"journey4-{uuid.uuid4().hex}"},
        )
        assert applied.status_code == 201, applied.text
        application = applied.json()
        assert application["status"] == "accepted"
        department = application["department_code"]
        as_department = await bearer(platform, http, f"dept-{department}")
        as_operator = await bearer(platform, http, "operator")

        task = await eventually(http, f"{BACKOFFICE}/applications/{application['id']}/task", as_department)
        claimed = await http.post(f"{BACKOFFICE}/tasks/{task['id']}/claim", headers=as_department)
        assert claimed.status_code == 200, claimed.text
        approved = await http.post(f"{BACKOFFICE}/tasks/{task['id']}/approve", json={}, headers=as_department)
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "decided"

        ratings = f"{BACKOFFICE}/applications/{application['id']}/ratings"
        wrong_tag = {"stage": "completed", "level": "不满意", "tags": ["服务热情"]}
        refused = await http.post(ratings, json=wrong_tag, headers=as_citizen)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "tags"
        someone_else = {"Authorization": f"Bearer {await platform.token(http, platform.citizens[-2])}"}
        bad = {"stage": "completed", "level": "不满意", "tags": ["办理超时"], "comment": "等了很久才办好"}
        assert (await http.post(ratings, json=bad, headers=someone_else)).status_code == 404
        rated = await http.post(ratings, json=bad, headers=as_citizen)
        assert rated.status_code == 201, rated.text
        followup = rated.json()["followup_id"]
        assert followup is not None, "a 不满意 rating opened no follow-up"

        # Supervision: the department and the operator both see it open; the citizen cannot look.
        assert followup in await followups(http, as_department, department, "open")
        assert followup in await followups(http, as_operator, department, "open")
        listing = {"department_code": department, "status": "open"}
        peek = await http.get(f"{BACKOFFICE}/followups", params=listing, headers=as_citizen)
        assert peek.status_code == 403

        path = f"{BACKOFFICE}/followups/{followup}"
        early = await http.post(f"{path}/rectify", json={"note": "已整改"}, headers=as_department)
        assert early.status_code == 409, "整改 was accepted before the 回访"
        visited = await http.post(
            f"{path}/visit", json={"note": "电话回访申请人，已致歉"}, headers=as_department
        )
        assert (visited.status_code, visited.json()["status"]) == (200, "visited")
        assert followup in await followups(http, as_operator, department, "visited")
        rectified = await http.post(
            f"{path}/rectify", json={"note": "优化审核流程，承诺时限内办结"}, headers=as_department
        )
        assert (rectified.status_code, rectified.json()["status"]) == (200, "rectified")

        for unfinished in ("open", "visited"):
            assert followup not in await followups(http, as_operator, department, unfinished)
        assert followup in await followups(http, as_operator, department, "rectified")
