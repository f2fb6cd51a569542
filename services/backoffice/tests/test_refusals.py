"""Issue 8's bad input: each refusal is a 4xx naming the field and the rule, and leaves the task, its
audit trail and the outbox exactly as they were (an unknown item version: see test_tasks)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from servicekit.testing import OPERATOR

from .support import MZJ, RSJ, Clock, accepted, at, backoffice, caller, deliver, item_published, published


async def snapshot(app: FastAPI, client: httpx.AsyncClient, task_id: str) -> tuple[Any, Any, int]:
    ops = caller(OPERATOR)
    task = (await client.get(f"/tasks/{task_id}", headers=ops)).json()
    trail = (await client.get(f"/tasks/{task_id}/audit", headers=ops)).json()
    return task, trail, len(await published(app))


async def test_refusals_change_nothing(db_url: str) -> None:
    clock = Clock(at("2025-09-26"))
    async with backoffice(db_url, clock) as (app, client):
        joint = item_published("wc-mzj-yzdb", handling_type="联办件", joint_departments=["wc-rsj"])
        await deliver(app, item_published(), joint)
        await deliver(app, accepted("app-000001"), accepted("app-000002", item_id="wc-mzj-yzdb"))
        lead = caller(MZJ)
        single = (await client.get("/applications/app-000001/task", headers=lead)).json()["id"]
        jointly = (await client.get("/applications/app-000002/task", headers=lead)).json()["id"]

        async def refused(
            task_id: str, path: str, body: dict[str, Any], who: Any, expect: tuple[Any, ...]
        ) -> None:
            before = await snapshot(app, client, task_id)
            answer = await client.post(f"/tasks/{task_id}/{path}", json=body, headers=who)
            assert answer.headers["content-type"].startswith("application/problem+json")
            problem = answer.json()
            error = problem.get("errors", [{}])[0]
            assert (answer.status_code, problem["code"], error.get("field"), error.get("rule")) == expect
            assert await snapshot(app, client, task_id) == before

        not_found = (404, "not_found", None, None)
        await refused(single, "approve", {}, caller(RSJ), not_found)  # another department's task
        await refused(single, "reject", {"reason": "不符合条件"}, caller(RSJ), not_found)
        waiting = (409, "assisting_departments_pending", "subtasks", "assisting_departments_first")
        await refused(jointly, "approve", {}, lead, waiting)
        assert (await client.post(f"/tasks/{single}/approve", json={}, headers=lead)).status_code == 200
        twice = (409, "already_decided", "status", "decide_once")
        await refused(single, "approve", {}, lead, twice)
        await refused(single, "reject", {"reason": "不符合条件"}, lead, twice)
        buzheng = {"materials": ["照片"], "reason": "照片不合格", "due_date": "2025-10-30"}
        finished = (409, "task_finished", "status", "state")
        await refused(single, "buzheng", buzheng, lead, finished)
        await refused(single, "special-step", {"step_name": "公示", "reason": "公示"}, lead, finished)
        await refused(single, "extend", {"days": 2, "reason": "需现场核查"}, lead, finished)
