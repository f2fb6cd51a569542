"""localinfra's Kannel: the fake handset's log is read back, and a real sendsms call reaches it."""

from __future__ import annotations

import time

import httpx

from localinfra.kannel import KannelGateway
from localinfra.kannel_log import parse_fakesmsc_log

LOG = """\
2026-11-25 10:21:36 [1] [0] DEBUG: Connecting to <127.0.0.1>
2026-11-25 10:21:39 [1] [0] DEBUG: Got message 1: <106900 13812345678 ucs-2 %60%A8v%84%00+%00A>
2026-11-25 10:21:50 [1] [0] DEBUG: Got message 2: <106900 13812345678 udh %05%00%03%01%02%02 data Zz>
2026-11-25 10:21:50 [1] [0] DEBUG: Got message 3: <106900 13812345678 udh %05%00%03%01%02%01 data Zz%00+>
2026-11-25 10:21:51 [1] [0] DEBUG: Got message 4: <1 2 text plain words>
"""


def test_the_fake_handsets_log_decodes_ucs2_and_joins_concatenated_parts() -> None:
    received = parse_fakesmsc_log(LOG)
    assert [(r.text, r.parts) for r in received] == [("您的 A", 1), ("婺 婺", 2), ("plain words", 1)]
    assert received[0].receiver == "13812345678"


def test_sendsms_reaches_the_fake_smsc(kannel: KannelGateway) -> None:
    before = len(kannel.received())
    response = httpx.get(
        kannel.sendsms_url,
        params={
            "username": kannel.username,
            "password": kannel.password,
            "from": "10690000",
            "to": "13800579001",
            "text": "【婺城政务服务】测试短信",
            "charset": "UTF-8",
            "coding": "2",
        },
        timeout=10,
    )
    assert response.status_code == 202
    deadline = time.monotonic() + 10
    while len(kannel.received()) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    (sms,) = kannel.received()[before:]
    assert (sms.receiver, sms.text) == ("13800579001", "【婺城政务服务】测试短信")
