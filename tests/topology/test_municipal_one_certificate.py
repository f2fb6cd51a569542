"""一证通办 for the demo citizen: intake's 材料预审 asks the real datashare (seeded as `make run` seeds it).

Intake and datashare run on real PostgreSQL; intake reaches datashare's app in process, wired the way
the embedded platform wires it (`intake.worker.use_datashare`), with its signed service identity.
王建国 (330702195003150013) holds a 户口簿 in datashare's demo, so for the elderly care subsidy only his
ID card is needed and the application goes through with his ID number alone.
"""

from __future__ import annotations

import os
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from contracts.catalog import ItemPublished, MaterialSpec
from contracts.envelope import new_event
from datashare.db import MIGRATIONS_DIR as DATASHARE_MIGRATIONS
from datashare.handlers import item_published as datashare_learns
from datashare.main import create_app as datashare_app
from datashare.seed import load_demo
from intake.db import MIGRATIONS_DIR as INTAKE_MIGRATIONS
from intake.handlers import item_published as intake_learns
from intake.main import create_app as intake_app
from intake.worker import use_datashare
from servicekit.identity import Identity
from servicekit.testing import TEST_KEY, app_client, as_caller, migrate

WANG = "330702195003150013"
NOBODY = "330702200001010117"  # a valid number datashare holds nothing about
SUBSIDY = ItemPublished(
    item_id="wc-mzj-ylbt",
    version=1,
    base_code="000524007000",
    implementation_code="11330702002609732X" + "4" + "000524007000",
    name="经济困难老年人养老服务补贴",
    department_code="wc-mzj",
    handling_type="承诺件",
    deciding_level="district",
    promised_limit_days=15,
    promised_limit_unit="工作日",
    trips=1,
    minsheng=True,
    materials=[
        MaterialSpec(name="居民身份证", required=True, key=True, rongque=False, certificate_type="id_card"),
        MaterialSpec(name="居民户口簿", required=True, key=False, rongque=False, certificate_type="hukou"),
        MaterialSpec(name="养老服务补贴申请表", required=False, key=False, rongque=False),
    ],
    effective_from=date(2026, 1, 1),
)


def citizen(number: str, name: str) -> dict[str, str]:
    scopes = frozenset({"intake:apply", "intake:read", "datashare:read"})
    return as_caller(
        Identity(kind="citizen", client_id="zlb-app", scopes=scopes, citizen_id=number, citizen_name=name)
    )


@pytest.fixture
async def databases(pg_cluster: Any) -> dict[str, str]:
    urls = {}
    for service, migrations in (("intake", INTAKE_MIGRATIONS), ("datashare", DATASHARE_MIGRATIONS)):
        urls[service] = pg_cluster.create_database(f"{service}_{os.urandom(4).hex()}")
        await migrate(migrations, urls[service])
    return urls


async def test_the_precheck_says_one_certificate_and_the_id_number_alone_suffices(
    databases: dict[str, str],
) -> None:
    event = new_event(type="catalog.item.published", source="/catalog", subject=SUBSIDY.item_id, data=SUBSIDY)
    ds_app, in_app = (
        datashare_app(databases["datashare"], TEST_KEY),
        intake_app(databases["intake"], TEST_KEY),
    )
    async with app_client(ds_app) as datashare, app_client(in_app) as intake:
        await load_demo(ds_app.state.sessions)
        for app, learn in ((ds_app, datashare_learns), (in_app, intake_learns)):
            async with app.state.sessions() as session, session.begin():
                await learn(session, event)  # what catalog.items delivers to each
        use_datashare(SimpleNamespace(app=in_app), SimpleNamespace(app=ds_app))

        checked = await intake.post(
            "/prechecks",
            json={"item_id": SUBSIDY.item_id, "subject_id": WANG},
            headers=citizen(WANG, "王建国"),
        )
        assert checked.status_code == 201, checked.text
        answer = checked.json()
        assert (answer["one_certificate"], answer["datashare_available"], answer["to_bring"]) == (
            True,
            True,
            [],
        )
        assert [(m["status"], m["reason"]) for m in answer["materials"]] == [
            ("provided", "identity_document"),
            ("datashare", "available"),
            ("optional", "not_given"),
        ]

        body = {
            "item_id": SUBSIDY.item_id,
            "applicant_id": WANG,
            "applicant_name": "王建国",
            "precheck_id": answer["id"],
        }
        applied = await intake.post("/applications", json=body, headers=citizen(WANG, "王建国"))
        assert applied.status_code == 201, applied.text
        application = applied.json()
        assert (application["status"], application["one_certificate"], application["missing"]) == (
            "accepted",
            True,
            [],
        )
        hukou = application["materials"][1]
        assert (hukou["status"], hukou["certificate_type"]) == ("datashare", "hukou")
        assert hukou["evidence_ref"]  # datashare's resolution: the department fetches with the case number

        # Without a pre-check, the submission asks datashare itself: the same answer.
        direct = await intake.post(
            "/applications", json={**body, "precheck_id": None}, headers=citizen(WANG, "王建国")
        )
        assert (direct.json()["status"], direct.json()["one_certificate"]) == ("accepted", True)

        # Datashare holds nothing for another resident: the 户口簿 must be brought.
        other = await intake.post(
            "/prechecks",
            json={"item_id": SUBSIDY.item_id, "subject_id": NOBODY},
            headers=citizen(NOBODY, "张三"),
        )
        statuses = {m["name"]: (m["status"], m["reason"]) for m in other.json()["materials"]}
        assert statuses["居民户口簿"] == ("missing", "unknown_subject")
        assert (other.json()["one_certificate"], other.json()["to_bring"]) == (False, ["居民户口簿"])

        # 王建国 sees intake's checks in datashare's access log (nothing was released).
        log = await datashare.post("/access-log/subject", json={}, headers=citizen(WANG, "王建国"))
        entries = log.json()["entries"]
        assert {(e["kind"], e["outcome"], e["consumer_code"]) for e in entries} == {
            ("resolution", "checked", "intake")
        }
        assert len(entries) == 2
