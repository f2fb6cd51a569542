"""Chinese text for search: folding (Traditional, full width, case), jieba words, pinyin and initials."""

from __future__ import annotations

import logging
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import jieba  # type: ignore[import-untyped]
import opencc
from pypinyin import Style, lazy_pinyin
from pypinyin import pinyin as pinyin_of

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "wucheng"
USERDICT = DATA_DIR / "userdict.txt"

# Letters and digits of any script; everything else (punctuation, symbols, spaces) separates words,
# so no token ever carries a character that the database's own tokenizers would split on.
_RUN = re.compile(r"[^\W_]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ASCII = re.compile(r"[a-z0-9]+")
_MAX_SUBWORD = 8


def _start_jieba() -> None:
    # jieba logs its start-up to stderr and caches its prefix dictionary in a shared temp file;
    # keep it quiet and give the cache a private directory, gone as soon as the dictionary is
    # loaded (jieba never reads the cache again), so not even a killed process leaves it behind.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    jieba.setLogLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="catalog-jieba-") as cache_dir:
        jieba.dt.tmp_dir = cache_dir
        jieba.dt.initialize()
    with USERDICT.open("rb") as words:
        jieba.dt.load_userdict(words)


_start_jieba()
_T2S = opencc.OpenCC("t2s")
_FREQ: dict[str, int] = jieba.dt.FREQ


def fold(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), Traditional to Simplified, control chars out."""
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    simplified: str = _T2S.convert(unicodedata.normalize("NFKC", text))
    return simplified


def is_han(word: str) -> bool:
    return _HAN.fullmatch(word) is not None


def is_ascii_word(word: str) -> bool:
    return _ASCII.fullmatch(word) is not None


def words(text: str) -> list[str]:
    """jieba's precise cut without HMM (so the index and a query cut alike), lower-cased."""
    out: list[str] = []
    for run in _RUN.findall(fold(text)):
        out.extend(w.lower() for w in jieba.dt.cut(run, HMM=False) if w.strip())
    return out


def _inner_words(word: str) -> Iterator[str]:
    # jieba's cut_for_search only looks at 2- and 3-character pieces, so 食品经营许可 inside the
    # userdict word 食品经营许可新办 would be lost; take every dictionary word inside instead.
    n = len(word)
    for i in range(n):
        for j in range(i + 2, min(n, i + _MAX_SUBWORD) + 1):
            if j - i < n and _FREQ.get(word[i:j], 0) > 0:
                yield word[i:j].lower()
    if not is_han(word) and not is_ascii_word(word.lower()):
        yield from _ASCII.findall(word.lower())
        yield from (h for h in _HAN.findall(word) if len(h) > 1)


def index_words(text: str) -> list[str]:
    """Words to index: the precise cut (lone characters kept, in order) plus the words inside each."""
    out: list[str] = []
    for run in _RUN.findall(fold(text)):
        for word in jieba.dt.cut(run, HMM=False):
            if not word.strip():
                continue
            out.append(word.lower())
            if len(word) > 2 or not is_han(word):
                out.extend(_inner_words(word))
    return out


def pinyin(word: str) -> str:
    return "".join(lazy_pinyin(word))


def initials(word: str) -> str:
    return "".join(lazy_pinyin(word, style=Style.FIRST_LETTER))


def han_only(text: str) -> str:
    return "".join(_HAN.findall(fold(text)))


def pinyin_words(phrases: Iterable[str], words_: Iterable[str]) -> list[str]:
    """Full pinyin and initials of whole phrases (names, synonyms) and of their multi-character words."""
    out: list[str] = []
    for text in [han_only(p) for p in phrases] + [w for w in words_ if is_han(w)]:
        if len(text) > 1:
            out += [pinyin(text), initials(text)]
    return out


def key(text: str) -> str:
    """The form an exact match compares: folded, lower-cased, letters and digits only."""
    return "".join(_RUN.findall(fold(text))).lower()


# What citizens wrap around a subject: 办身份证 and 身份证办理 name the same thing as 身份证.
_ACTION_AFFIXES = re.compile(r"^(?:我要|我想|想|要)?(?:办理|申请|申领|办)|(?:办理|申请|申领|手续)$")


def core(key_: str) -> str:
    """A key without the 办/办理/申请 around it, for exact matching (the key itself if that is all)."""
    bare = _ACTION_AFFIXES.sub("", key_)
    return bare if len(bare) > 1 else key_


@lru_cache(maxsize=8192)
def _char_readings(char: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(pinyin_of(char, style=Style.NORMAL, heteronym=True)[0]))


def readings(text: str) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """(position, every pinyin reading) of each Han character, for highlighting what was spelled.

    Character by character, and every reading of a heteronym (行: xing, hang): a phrase-level
    reading costs ~90 µs a name, too much for 20 hits and their synonyms.
    """
    return tuple((m.start(), _char_readings(m.group())) for m in _HAN_CHAR.finditer(text))
