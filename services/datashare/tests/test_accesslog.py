"""The access log on PostgreSQL and SQLite: append-only, chained under concurrency, tamper evident."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
import sqlalchemy as sa

from .support import LI, OPS, SUN, WANG, Datashare, ask, citizen, datashare, department

MZJ = department("wc-mzj")


async def _tamper(ds: Datashare, sql: str) -> None:
    """What an attacker with DDL rights does: lift the append-only guard, then edit or delete."""
    engine = ds.app.state.engine
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(sa.text("ALTER TABLE access_log DISABLE TRIGGER access_log_append_only"))
        else:
            await conn.execute(sa.text(f"DROP TRIGGER access_log_no_{sql.split()[0].lower()}"))
        await conn.execute(sa.text(sql))


async def _verify_cli(url: str) -> tuple[int, dict[str, object]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "datashare.verify", "--database-url", url, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, json.loads(out)


async def test_a_tampered_row_is_found_by_the_api_and_the_cli(db_url: str) -> None:
    async with datashare(db_url) as ds:
        await ds.entitle("wc-mzj", "hukou")
        for subject in (WANG, SUN, LI):
            await ds.client.post("/evidence-requests", json=ask("hukou", subject), headers=MZJ)
        await ds.client.post("/evidence-requests", json=ask("hukou"), headers=department("wc-rsj"))
        clean = (await ds.client.get("/access-log/verify", headers=OPS)).json()
        assert (clean["ok"], clean["checked"], clean["head_seq"]) == (True, 4, 4)
        assert await _verify_cli(db_url) == (0, {**clean_report(clean)})
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with ds.app.state.engine.begin() as conn:
                await conn.execute(sa.text("UPDATE access_log SET outcome = 'granted' WHERE seq = 4"))
        # Someone rewrites who acted in the request at seq 2.
        await _tamper(ds, "UPDATE access_log SET officer = '某人' WHERE seq = 2")
        report = (await ds.client.get("/access-log/verify", headers=OPS)).json()
        assert (report["ok"], report["first_broken_seq"], report["checked"]) == (False, 2, 1)
        assert "officer" in report["reason"]
        code, cli = await _verify_cli(db_url)
        assert (code, cli["first_broken_seq"]) == (1, 2)


def clean_report(api: dict[str, object]) -> dict[str, object]:
    return {k: api[k] for k in ("ok", "checked", "head_seq", "head_hash", "first_broken_seq", "reason")}


@pytest.mark.parametrize(
    ("attack", "broken", "words"),
    [
        ("UPDATE access_log SET entry = replace(entry, 'denied', 'granted') WHERE seq = 3", 3, "篡改"),
        ("DELETE FROM access_log WHERE seq = 2", 2, "missing"),
        ("DELETE FROM access_log WHERE seq = 3", 3, "截断"),
    ],
)
async def test_altered_entries_deleted_links_and_truncation_are_reported(
    db_url: str, attack: str, broken: int, words: str
) -> None:
    async with datashare(db_url) as ds:
        await ds.entitle("wc-mzj", "hukou")
        await ds.client.post("/evidence-requests", json=ask("hukou"), headers=MZJ)
        await ds.client.post("/evidence-requests", json=ask("hukou"), headers=MZJ)
        await ds.client.post("/evidence-requests", json=ask("hukou"), headers=department("wc-rsj"))
        await _tamper(ds, attack)
        report = (await ds.client.get("/access-log/verify", headers=OPS)).json()
        assert (report["ok"], report["first_broken_seq"]) == (False, broken)
        assert words in report["reason"]


async def test_concurrent_requests_extend_one_unbroken_chain(db_url: str) -> None:
    async with datashare(db_url) as ds:
        await ds.entitle("wc-mzj", "hukou")
        callers = [MZJ, department("wc-rsj")] * 20
        answers = await asyncio.gather(
            *(ds.client.post("/evidence-requests", json=ask("hukou"), headers=c) for c in callers)
        )
        assert sorted(a.status_code for a in answers) == [201] * 20 + [403] * 20
        granted_seqs = {a.json()["log"]["seq"] for a in answers if a.status_code == 201}
        assert len(granted_seqs) == 20
        report = (await ds.client.get("/access-log/verify", headers=OPS)).json()
        assert (report["ok"], report["checked"]) == (True, 40)
        assert [r.seq for r in await ds.log_rows()] == list(range(1, 41))


async def test_a_citizen_sees_who_looked_at_their_data_and_nobody_elses(db_url: str) -> None:
    async with datashare(db_url) as ds:
        await ds.entitle("wc-mzj", "hukou")
        await ds.client.post("/evidence-requests", json=ask("hukou"), headers=MZJ)
        await ds.client.post("/evidence-requests", json=ask("marriage_cert"), headers=department("wc-rsj"))
        await ds.client.post("/evidence-requests", json=ask("hukou", SUN), headers=MZJ)
        mine = await ds.client.post("/access-log/subject", json={}, headers=citizen(WANG))
        assert mine.status_code == 200
        entries = mine.json()["entries"]
        assert [(e["consumer_name"], e["certificate_names"], e["outcome"], e["reason"]) for e in entries] == [
            ("金华市婺城区人力资源和社会保障局", ["结婚证"], "denied", "no_access_rule"),
            ("金华市婺城区民政局", ["户口簿"], "granted", None),
        ]
        assert entries[1]["case_number"] == ask("hukou")["case_number"]
        named_self = await ds.client.post(
            "/access-log/subject", json={"subject_id": WANG}, headers=citizen(WANG)
        )
        assert len(named_self.json()["entries"]) == 2
        someone_else = await ds.client.post(
            "/access-log/subject", json={"subject_id": SUN}, headers=citizen(WANG)
        )
        assert someone_else.status_code == 403
        operator = await ds.client.post("/access-log/subject", json={"subject_id": SUN}, headers=OPS)
        assert len(operator.json()["entries"]) == 1
        unnamed = await ds.client.post("/access-log/subject", json={}, headers=OPS)
        assert unnamed.json()["errors"][0]["field"] == "subject_id"
        invalid = await ds.client.post("/access-log/subject", json={"subject_id": "12345"}, headers=OPS)
        assert invalid.json()["code"] == "invalid_subject"
        department_reader = department("wc-mzj", "datashare:read")
        assert (
            await ds.client.post("/access-log/subject", json={}, headers=department_reader)
        ).status_code == 403
        assert (await ds.client.get("/access-log/verify", headers=MZJ)).status_code == 403
