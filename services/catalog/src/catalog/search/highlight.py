"""Highlight snippets: the words a hit matched wrapped in <em>…</em>, all other text HTML-escaped."""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

from catalog.search.plan import Plan, atoms
from catalog.search.text import readings

# Full-width ASCII to ASCII, one character for one, so positions in the folded copy are the
# positions in the original text.
_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_WINDOW = 24


@lru_cache(maxsize=1024)
def terms(plan: Plan) -> re.Pattern[str]:
    """Everything worth marking as one pattern, longest first so 社会保障卡 wins over 社会."""
    words = {"".join(a.words) for g in plan.groups for a in atoms(g)} | set(plan.terms)
    folded = sorted({w.translate(_WIDTH).lower() for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, folded)) if folded else "(?!)")


def _literal(text: str, words: re.Pattern[str]) -> list[tuple[int, int]]:
    return [m.span() for m in words.finditer(text.translate(_WIDTH).lower())]


Sounds = tuple[tuple[int, tuple[str, ...]], ...]


def _spelled(text: str, spelled: tuple[str, ...]) -> list[tuple[int, int]]:
    """Spans of Han characters whose pinyin (or initials) starts with what was typed."""
    sounds = readings(text) if spelled else ()
    # What was typed as a whole (laonianzheng), else its space-separated parts (lao nian zheng).
    spans = _sounded(sounds, spelled[:1])
    return spans or _sounded(sounds, spelled[1:])


def _spell(sounds: Sounds, i: int, rest: str) -> int | None:
    """The index after the characters whose readings spell `rest` (the last one may be cut short)."""
    if i == len(sounds):
        return None
    for reading in sounds[i][1]:
        if reading.startswith(rest):
            return i + 1
        if rest.startswith(reading) and (end := _spell(sounds, i + 1, rest[len(reading) :])) is not None:
            return end
    return None


def _initials(sounds: Sounds, i: int, typed: str) -> int | None:
    if i + len(typed) > len(sounds):
        return None
    if all(any(r[:1] == letter for r in sounds[i + k][1]) for k, letter in enumerate(typed)):
        return i + len(typed)
    return None


def _sounded(sounds: Sounds, spelled: tuple[str, ...]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for typed in spelled:
        for start in range(len(sounds)):
            end = _spell(sounds, start, typed) or _initials(sounds, start, typed)
            if end:
                spans.append((sounds[start][0], sounds[end - 1][0] + 1))
    return spans


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:  # touching or overlapping: one <em>, not <em>a</em><em>b</em>
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _mark(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    position = 0
    for start, end in _merged(spans):
        out += [escape(text[position:start]), "<em>", escape(text[start:end]), "</em>"]
        position = end
    out.append(escape(text[position:]))
    return "".join(out)


def _spans(text: str, plan: Plan, words: re.Pattern[str]) -> list[tuple[int, int]]:
    return _literal(text, words) + _spelled(text, plan.spelled)


def highlight(plan: Plan, name: str, synonyms: str, body: str) -> str:
    """The name with its matches marked; else the name and the synonym or guide text that matched."""
    if plan.empty:
        return escape(name)
    words = terms(plan)
    if spans := _spans(name, plan, words):
        return _mark(name, spans)
    for synonym in synonyms.split("\n"):
        if spans := _spans(synonym, plan, words):
            return f"{escape(name)}（{_mark(synonym, spans)}）"
    for segment in body.split("\n"):
        if spans := _literal(segment, words):
            first = min(start for start, _ in spans)
            left = max(0, first - _WINDOW)
            window = segment[left : first + 2 * _WINDOW]
            shifted = [(s - left, e - left) for s, e in spans if s >= left and e <= left + len(window)]
            prefix = "…" if left else ""
            suffix = "…" if left + len(window) < len(segment) else ""
            return f"{escape(name)} — {prefix}{_mark(window, shifted)}{suffix}"
    return escape(name)
