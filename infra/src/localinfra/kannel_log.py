"""Reading Kannel's fake handset (fakesmsc) log: the messages it received, decoded and reassembled."""

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

_GOT = re.compile(r"Got message \d+: <(.*)>$")


@dataclass(frozen=True)
class ReceivedSms:
    """One message as the fake SMSC received it (concatenated parts joined), decoded."""

    sender: str
    receiver: str
    text: str
    parts: int


def _decode(kind: str, payload: str) -> str:
    if kind == "text":
        return payload
    # fakesmsc URL-encodes with '+' for the byte 0x20 (which UCS-2 text is full of).
    raw = unquote_to_bytes(payload.replace("+", " "))
    # Kannel hands UCS-2 (coding=2) through as big-endian UTF-16; anything else is 8-bit data.
    return raw.decode("utf-16-be", errors="replace") if kind in ("ucs-2", "udh") else raw.decode("latin-1")


def parse_fakesmsc_log(text: str) -> list[ReceivedSms]:
    """The messages fakesmsc printed, with the parts of a concatenated message joined in order."""
    out: list[ReceivedSms] = []
    pending: dict[tuple[str, str, int], dict[int, str]] = {}
    for line in text.splitlines():
        match = _GOT.search(line)
        if match is None:
            continue
        fields = match.group(1).split(" ")
        sender, receiver, kind = fields[0], fields[1], fields[2]
        if kind != "udh":
            out.append(ReceivedSms(sender, receiver, _decode(kind, " ".join(fields[3:])), 1))
            continue
        udh = unquote_to_bytes(fields[3].replace("+", " "))
        ref, total, seq = udh[3], udh[4], udh[5]  # IEI 00: 8-bit reference, total, sequence
        parts = pending.setdefault((sender, receiver, ref), {})
        parts[seq] = _decode("udh", " ".join(fields[5:]))
        if len(parts) == total:
            del pending[(sender, receiver, ref)]
            out.append(ReceivedSms(sender, receiver, "".join(parts[i] for i in sorted(parts)), total))
    return out
