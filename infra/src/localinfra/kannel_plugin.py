"""pytest fixture that runs a real Kannel SMS gateway with its fake SMSC, started on first use."""

import time
from collections.abc import Iterator

import pytest

from localinfra.kannel import KannelGateway, start_kannel


@pytest.fixture(scope="session")
def kannel(pytestconfig: pytest.Config) -> Iterator[KannelGateway]:
    """bearerbox + smsbox + fakesmsc for the session; `kannel.sendsms_url` is Kannel's HTTP API.

    A test that stops smsbox (to see Kannel down) starts it again before it ends.
    """
    started = time.monotonic()
    gateway = start_kannel()
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"localinfra: Kannel at {gateway.sendsms_url} with a fake SMSC "
                f"(ready in {time.monotonic() - started:.1f} s, logs in {gateway.workdir})"
            )
    try:
        yield gateway
    finally:
        gateway.close()
