"""Tests on the `make stack` topology (tests/reliability, tests/e2e): one stack for the whole session.

Every service's api and worker runs as its own process on PostgreSQL and Kafka behind the gateway,
as in production. Intake and the back office get PostgreSQL clusters of their own, so the fault
tests can restart one service's database while the others keep theirs; the gateway trusts a
stand-in provincial SSO, so citizens log in the way the app logs them in (each has their own
rate-limit buckets). Nothing starts unless a test asks for `stack` or `platform`.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.citizens import DemoSso
from localinfra.ports import free_port
from localinfra.stack import Stack

# Tests import their helpers as `tests.*`; make that work under a bare `pytest` too.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.harness import Platform, Settings, complete_with_id_card, make_citizens  # noqa: E402
from tests.reliability.ledger import settle  # noqa: E402

log = logging.getLogger("stack-tests")
# One line per request at INFO would bury everything else in a failure report.
logging.getLogger("httpx").setLevel(logging.WARNING)
CITIZENS = 24


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    # Under /tmp and world-traversable: the PostgreSQL server runs as its own user.
    workdir = Path(tempfile.mkdtemp(prefix="stack-tests-", dir="/tmp"))
    workdir.chmod(0o755)
    running = Stack(
        workdir, free_port(), demo_sso=DemoSso.create(), dedicated_postgres=("intake", "backoffice")
    )
    started = False
    try:
        running.start()
        started = True
        yield running
    finally:
        running.stop()
        if not started or request.session.testsfailed or os.environ.get("KEEP_STACK_LOGS"):
            log.warning("stack logs kept in %s", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
async def platform(stack: Stack) -> Platform:
    assert stack.demo_sso is not None
    settings = Settings()
    view = Platform(stack, stack.demo_sso, list(make_citizens(CITIZENS)), settings=settings)
    # The seeded catalogue reaches every read model before the first application.
    await settle(view, settings.settle_s)
    view.items = await complete_with_id_card(view)
    assert view.items, "intake's read model has no item needing only the ID card: did the catalogue arrive?"
    async with httpx.AsyncClient(timeout=30) as client:
        for citizen in view.citizens:
            await view.token(client, citizen)
    return view
