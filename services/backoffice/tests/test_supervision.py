"""督查: warnings and overdue escalation by the sweep, 好差评 and their follow-ups, complaints, statistics."""

from __future__ import annotations

from datetime import date

from backoffice.supervision import sweep
from servicekit.testing import OPERATOR

from .support import (
    CITIZEN,
    HOTLINE,
    MZJ,
    RSJ,
    STRANGER,
    Clock,
    accepted,
    at,
    backoffice,
    caller,
    deliver,
    item_published,
    published,
)

BAD = {"stage": "accepted", "level": "非常不满意", "tags": ["多次跑腿"], "comment": "窗口让我跑了三次"}


async def test_the_sweep_warns_before_the_deadline_and_escalates_overdue_work_once(db_url: str) -> None:
    clock = Clock(at("2025-09-26"))
    async with backoffice(db_url, clock) as (app, client):
        joint = item_published("wc-mzj-yzdb", handling_type="联办件", joint_departments=["wc-rsj"])
        await deliver(app, item_published(), joint)
        await deliver(app, accepted("app-000001"), accepted("app-000002", item_id="wc-mzj-yzdb"))
        await deliver(app, accepted("app-000003"))
        suspended = (await client.get("/applications/app-000003/task", headers=caller(MZJ))).json()["id"]
        buzheng = {"materials": ["照片"], "reason": "照片不合格", "due_date": "2025-10-30"}
        await client.post(f"/tasks/{suspended}/buzheng", json=buzheng, headers=caller(MZJ))

        async def run(day: str) -> tuple[int, int]:
            async with app.state.sessions() as session:
                result = await sweep(session, date.fromisoformat(day), warn_working_days=2)
            return result.warned, result.escalated

        assert await run("2025-09-29") == (0, 0)
        assert await run("2025-09-30") == (2, 0)  # both due 10-10: two working days ahead, over the holiday
        assert await run("2025-10-08") == (0, 0)
        assert await run("2025-10-10") == (0, 1)  # the 协办 sub-task was due 10-09
        assert await run("2025-10-13") == (0, 2)  # both cases were due 10-10
        assert await run("2025-10-14") == (0, 0)
        warned = await published(app, "backoffice.task.deadline_warned")
        assert {(e["deadline_date"], e["working_days_left"]) for e in warned} == {("2025-10-10", 2)}
        escalated = await published(app, "backoffice.task.escalated")
        assert [(e["department_code"], e["role"], e["working_days_overdue"]) for e in escalated] == [
            ("wc-rsj", "assist", 1),
            ("wc-mzj", "lead", 2),  # the 调休 Saturday 10-11 and Monday 10-13
            ("wc-mzj", "lead", 2),
        ]
        assert escalated[0]["escalated_to"] == ["department_head", "supervision_office"]
        assert {e["application_id"] for e in escalated} == {
            "app-000001",
            "app-000002",
        }  # not the suspended one
        clock.set("2025-10-14")
        assert (await client.post("/supervision/sweep", headers=caller(MZJ))).status_code == 403
        swept = await client.post("/supervision/sweep", headers=caller(OPERATOR))
        assert swept.json() == {
            "today": "2025-10-14",
            "terminated": 0,
            "warned": 0,
            "escalated": 0,
            "followups_escalated": 0,
            "complaints_escalated": 0,
        }


async def test_a_bad_rating_opens_a_follow_up_with_its_own_deadlines(db_url: str) -> None:
    clock = Clock(at("2025-09-30"))
    async with backoffice(db_url, clock) as (app, client):
        await deliver(app, item_published(), accepted("app-000001", accepted_at=at("2025-09-29")))
        rate = "/applications/app-000001/ratings"
        assert (await client.post(rate, json=BAD, headers=caller(STRANGER))).status_code == 404
        assert (await client.post(rate, json=BAD, headers=caller(MZJ))).status_code == 403
        early = await client.post(rate, json={**BAD, "stage": "completed"}, headers=caller(CITIZEN))
        assert (early.status_code, early.json()["code"]) == (409, "not_completed")
        wrong = await client.post(rate, json={**BAD, "tags": ["服务热情"]}, headers=caller(CITIZEN))
        assert (wrong.status_code, wrong.json()["errors"][0]["field"]) == (422, "tags")
        unknown = await client.post(rate, json={**BAD, "level": "还行"}, headers=caller(CITIZEN))
        assert unknown.status_code == 422
        rated = await client.post(rate, json=BAD, headers=caller(CITIZEN))
        assert rated.status_code == 201, rated.text
        rating = rated.json()
        assert (rating["score"], rating["followup_id"] is not None) == (1, True)
        twice = await client.post(rate, json=BAD, headers=caller(CITIZEN))
        assert (twice.status_code, twice.json()["code"]) == (409, "already_rated")
        [opened] = await published(app, "backoffice.followup.opened")
        assert (opened["visit_due"], opened["rectify_due"]) == ("2025-10-09", "2025-10-28")
        followups = (
            await client.get("/followups", params={"department_code": "wc-mzj"}, headers=caller(MZJ))
        ).json()
        assert [(f["status"], f["visit_due"]) for f in followups] == [("open", "2025-10-09")]
        assert (
            await client.get("/followups", params={"department_code": "wc-mzj"}, headers=caller(RSJ))
        ).status_code == 403
        url = f"/followups/{rating['followup_id']}"
        note = {"note": "已电话回访，申请人反映材料清单不清楚"}
        assert (await client.post(f"{url}/visit", json=note, headers=caller(RSJ))).status_code == 404
        first = await client.post(f"{url}/rectify", json=note, headers=caller(MZJ))
        assert (first.status_code, first.json()["code"]) == (409, "visit_first")
        async with app.state.sessions() as session:
            assert (await sweep(session, date(2025, 10, 10), 2)).followups_escalated == 1  # no 回访 by 10-09
        escalated = await published(app, "backoffice.followup.escalated")
        assert [(e["stage"], e["due_date"]) for e in escalated] == [("visit", "2025-10-09")]
        clock.set("2025-10-10")
        assert (await client.post(f"{url}/visit", json=note, headers=caller(MZJ))).json()[
            "status"
        ] == "visited"
        assert (await client.post(f"{url}/visit", json=note, headers=caller(MZJ))).json()[
            "code"
        ] == "already_visited"
        fixed = {"note": "已在一次性告知单中补充样表，窗口人员培训"}
        assert (await client.post(f"{url}/rectify", json=fixed, headers=caller(MZJ))).json()[
            "status"
        ] == "rectified"
        [rectified] = await published(app, "backoffice.followup.rectified")
        assert rectified["on_time"] is True
        again = {"level": "满意", "tags": ["指引清晰"]}
        added = await client.post(f"/ratings/{rating['id']}/follow-up", json=again, headers=caller(CITIZEN))
        assert (added.status_code, added.json()["follow_up_of"]) == (201, rating["id"])
        once = await client.post(f"/ratings/{rating['id']}/follow-up", json=again, headers=caller(CITIZEN))
        assert (once.status_code, once.json()["code"]) == (409, "already_rated")
        nested = await client.post(
            f"/ratings/{added.json()['id']}/follow-up", json=again, headers=caller(CITIZEN)
        )
        assert nested.json()["code"] == "follow_up_of_follow_up"
        assert (
            await client.post("/ratings/none/follow-up", json=again, headers=caller(CITIZEN))
        ).status_code == 404
        submitted = await published(app, "backoffice.rating.submitted")
        assert [(e["level"], e["bad"], e["follow_up_of"]) for e in submitted] == [
            ("非常不满意", True, None),
            ("满意", False, rating["id"]),
        ]
        trail = (await client.get("/tasks", params={"department_code": "wc-mzj"}, headers=caller(MZJ))).json()
        audit = (await client.get(f"/tasks/{trail['tasks'][0]['id']}/audit", headers=caller(MZJ))).json()
        assert [e["action"] for e in audit] == [
            "received",
            "rated",
            "deadline_warned",  # the case itself is due 10-13
            "followup_escalated",
            "visited",
            "rectified",
            "follow_up_rated",
        ]


async def test_complaints_are_tracked_to_their_answer_and_escalated_when_late(db_url: str) -> None:
    clock = Clock(at("2025-10-09"))
    async with backoffice(db_url, clock) as (app, client):
        await deliver(app, item_published(), accepted("app-000001"))
        hotline = caller(HOTLINE)
        body = {"channel": "12345", "application_id": "app-000001", "content": "办件超过承诺时限仍未办结"}
        assert (await client.post("/complaints", json=body, headers=caller(MZJ))).status_code == 403
        no_case = await client.post(
            "/complaints", json={**body, "application_id": "app-404"}, headers=hotline
        )
        assert (no_case.status_code, no_case.json()["errors"][0]["rule"]) == (422, "known_case")
        nobody = await client.post("/complaints", json={"content": "服务态度差"}, headers=hotline)
        assert (nobody.status_code, nobody.json()["errors"][0]["field"]) == (422, "department_code")
        stranger = await client.post(
            "/complaints", json={"department_code": "wc-none", "content": "服务态度差"}, headers=hotline
        )
        assert stranger.json()["errors"][0]["rule"] == "known_department"
        filed = await client.post("/complaints", json=body, headers=hotline)
        assert filed.status_code == 201, filed.text
        complaint = filed.json()
        assert (complaint["department_code"], complaint["due_date"], complaint["case_number"]) == (
            "wc-mzj",
            "2025-10-15",
            "CASE-app-000001",
        )
        others = await client.get("/complaints", params={"department_code": "wc-mzj"}, headers=caller(RSJ))
        assert others.status_code == 403
        async with app.state.sessions() as session:
            assert (await sweep(session, date(2025, 10, 16), 2)).complaints_escalated == 1
            assert (await sweep(session, date(2025, 10, 17), 2)).complaints_escalated == 0
        url = f"/complaints/{complaint['id']}/answer"
        reply = {"answer": "已于当日办结并向申请人致歉"}
        assert (await client.post(url, json=reply, headers=caller(RSJ))).status_code == 404
        clock.set("2025-10-16")
        assert (await client.post(url, json=reply, headers=caller(MZJ))).json()["status"] == "answered"
        assert (await client.post(url, json=reply, headers=caller(MZJ))).json()["code"] == "already_answered"
        listed = await client.get("/complaints", params={"department_code": "wc-mzj"}, headers=caller(MZJ))
        assert [c["status"] for c in listed.json()] == ["answered"]
        [answered] = await published(app, "backoffice.complaint.answered")
        assert answered["on_time"] is False


async def test_statistics_per_department_and_item_with_rankings(db_url: str) -> None:
    clock = Clock(at("2025-09-26"))
    async with backoffice(db_url, clock) as (app, client):
        await deliver(
            app, item_published(), item_published("wc-rsj-sbk", department_code="wc-rsj", name="社保卡")
        )
        await deliver(app, accepted("app-000001"), accepted("app-000002"))
        await deliver(app, accepted("app-000003", item_id="wc-rsj-sbk", department="wc-rsj"))
        ids = {}
        for app_id, who in (("app-000001", MZJ), ("app-000002", MZJ), ("app-000003", RSJ)):
            ids[app_id] = (await client.get(f"/applications/{app_id}/task", headers=caller(who))).json()["id"]
        clock.set("2025-09-30")
        await client.post(f"/tasks/{ids['app-000001']}/approve", json={}, headers=caller(MZJ))
        clock.set("2025-10-13")  # after the 10-10 deadline
        await client.post(
            f"/tasks/{ids['app-000002']}/reject", json={"reason": "不符合条件"}, headers=caller(MZJ)
        )
        await client.post(f"/tasks/{ids['app-000003']}/approve", json={}, headers=caller(RSJ))
        good = {"stage": "completed", "level": "满意", "tags": ["办理快速"]}
        await client.post("/applications/app-000001/ratings", json=good, headers=caller(CITIZEN))
        await client.post(
            "/applications/app-000002/ratings", json={**BAD, "stage": "completed"}, headers=caller(CITIZEN)
        )
        params = {"from_date": "2025-09-01", "to_date": "2025-10-31"}
        figures = (await client.get("/statistics", params=params, headers=caller(MZJ))).json()
        mzj, rsj = figures["departments"]
        assert (rsj["department_code"], rsj["rank"], rsj["on_time_rate"]) == ("wc-rsj", 2, 0.0)
        assert {
            k: mzj[k] for k in ("department_code", "rank", "received", "completed", "on_time", "overdue")
        } == {
            "department_code": "wc-mzj",
            "rank": 1,
            "received": 2,
            "completed": 2,
            "on_time": 1,
            "overdue": 1,
        }
        # 3 and 7 working days used against a promised 5
        assert (mzj["on_time_rate"], mzj["average_days_used"], mzj["average_limit_days"]) == (0.5, 5.0, 5.0)
        assert (mzj["ratings"], mzj["satisfaction_rate"], mzj["bad_rating_rate"]) == (2, 0.5, 0.5)
        assert [(i["item_id"], i["item_name"]) for i in figures["items"]] == [
            ("wc-mzj-lnyd", "老年人优待证办理"),
            ("wc-rsj-sbk", "社保卡"),
        ]
        one = await client.get(
            "/statistics", params={**params, "department_code": "wc-rsj"}, headers=caller(MZJ)
        )
        assert [d["department_code"] for d in one.json()["departments"]] == ["wc-rsj"]
        reversed_range = {"from_date": "2025-10-31", "to_date": "2025-10-01"}
        backwards = await client.get("/statistics", params=reversed_range, headers=caller(MZJ))
        assert (backwards.status_code, backwards.json()["errors"][0]["field"]) == (422, "from_date")
