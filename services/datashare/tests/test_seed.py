"""The embedded demo: members from the shipped departments, the catalogue, certificates for 一证通办."""

from __future__ import annotations

from pathlib import Path

from datashare.seed import load_demo

from .support import WANG, citizen, datashare


async def test_load_demo_registers_everyone_once_and_the_demo_citizen_holds_certificates(db_url: str) -> None:
    async with datashare(db_url, seed=False) as ds:
        counts = await load_demo(ds.app.state.sessions)
        assert counts == {"members": 36, "certificate_types": 15, "certificates": 138}
        assert await load_demo(ds.app.state.sessions) == {
            "members": 0,
            "certificate_types": 0,
            "certificates": 0,
        }
        mine = (await ds.client.post("/certificates/search", json={}, headers=citizen(WANG))).json()
        assert {c["certificate_type"] for c in mine} == {
            "id_card", "hukou", "marriage_cert", "property_cert", "social_insurance_cert", "elderly_card", "veteran_card",
        }  # fmt: skip
        subjects = await ds.scalar("SELECT count(DISTINCT subject_id) FROM certificate")
        assert subjects == 42
        assert await ds.scalar("SELECT count(*) FROM outbox") == 138


async def test_without_the_departments_file_only_intake_is_registered(db_url: str, tmp_path: Path) -> None:
    async with datashare(db_url, seed=False) as ds:
        counts = await load_demo(ds.app.state.sessions, tmp_path / "missing.json")
        # The catalogue needs its providers, so no types and no certificates without them.
        assert counts == {"members": 1, "certificate_types": 0, "certificates": 0}
