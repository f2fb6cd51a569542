"""A citizen's query as a plan: words, colloquial synonyms (口语词) and pinyin, rendered per backend."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from catalog.search.text import DATA_DIR, core, fold, is_ascii_word, is_han, key, words

SYNONYMS_FILE = DATA_DIR / "synonyms.txt"
# Words that carry no subject; dropped unless nothing else is left.
_STOPWORDS = (
    "我要 我想 想要 请问 怎么 怎么办 怎样 如何 哪里 在哪 在哪里 哪儿 什么 可以 一下 需要 办理 申请"
    " 手续 流程 材料 办事 指南"
)
STOPWORDS = frozenset(_STOPWORDS.split())
# Lone characters that never name a subject; other lone characters are words jieba does not know.
STOP_CHARS = frozenset("我你他要想的了吗呢啊吧呀么怎办去在哪把给和与及或个有是能会也都还就啥")
_CHUNKS = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Atom:
    """One word, a phrase of lone characters (words the dictionary does not know), or a pinyin prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Expr, ...]


Expr = Atom | AllOf | AnyOf


@dataclass(frozen=True)
class Plan:
    groups: tuple[Expr, ...] = ()  # every group must match (a relaxed pass accepts any)
    exact: tuple[str, ...] = ()  # the whole query as a name or synonym would read
    related: tuple[str, ...] = ()  # formal names the query's colloquial words stand for
    terms: tuple[str, ...] = ()  # what to highlight
    spelled: tuple[str, ...] = ()  # pinyin or initials to highlight

    @property
    def empty(self) -> bool:
        return not self.groups

    @property
    def latin(self) -> bool:
        """Some word is in Latin letters or digits: it may be pinyin, so match it against pinyin too."""
        return any(is_ascii_word(w) for g in self.groups for a in atoms(g) for w in a.words)


def atoms(expr: Expr) -> list[Atom]:
    if isinstance(expr, Atom):
        return [expr]
    return [a for part in expr.parts for a in atoms(part)]


@cache
def synonyms() -> dict[str, tuple[str, ...]]:
    """synonyms.txt: `colloquial<TAB>formal1,formal2`, keyed by the folded colloquial word."""
    table: dict[str, tuple[str, ...]] = {}
    for line in SYNONYMS_FILE.read_text(encoding="utf-8").splitlines():
        colloquial, _, formal = line.partition("\t")
        if colloquial.strip() and formal.strip():
            table[key(colloquial)] = tuple(f.strip() for f in formal.split(",") if f.strip())
    return table


def _seq(tokens: list[str], keep_lone: bool) -> list[Atom]:
    """Atoms of a cut: runs of lone Han characters become one phrase; stopwords drop if others remain."""
    out: list[Atom] = []
    lone: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and is_han(token):
            if token not in STOP_CHARS or keep_lone:
                lone.append(token)
            continue
        if len(lone) > 1 or (lone and keep_lone):
            out.append(Atom(tuple(lone)))
        lone = []
        if token:
            out.append(Atom((token,), prefix=is_ascii_word(token) and len(token) > 1))
    subjects = [a for a in out if a.words[0] not in STOPWORDS]
    return subjects or out


def _formal(term: str) -> Expr | None:
    atoms = _seq(words(term), keep_lone=False)
    if not atoms:
        return None
    return atoms[0] if len(atoms) == 1 else AllOf(tuple(atoms))


def _alternatives(main: Expr, expansions: tuple[str, ...]) -> Expr:
    alts = tuple(dict.fromkeys([main] + [e for e in map(_formal, expansions) if e is not None]))
    return main if len(alts) == 1 else AnyOf(alts)


def _inner_phrases(tokens: list[str], table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Formal names of colloquial phrases spanning words of a longer query (身份证丢了 in 身份证丢了怎么办).

    A phrase inside one word is left out: that word's own synonyms already stand for it.
    """
    chunk = "".join(tokens)
    ends = {sum(map(len, tokens[: n + 1])) for n in range(len(tokens))}
    found: list[str] = []
    for i in range(len(chunk)):
        for j in range(i + 3, len(chunk) + (i > 0)):
            crosses = any(i < end < j for end in ends)
            found += table.get(chunk[i:j], ()) if crosses else ()
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=1024)  # popular queries repeat; a plan is immutable
def parse(q: str | None) -> Plan:
    folded = fold(q or "").lower()
    chunks = _CHUNKS.findall(folded)
    if not chunks:
        return Plan()
    table = synonyms()
    if all(is_ascii_word(c) for c in chunks):
        joined = "".join(chunks)
        together = Atom((joined,), prefix=len(joined) > 1)
        apart = AllOf(tuple(Atom((c,), prefix=len(c) > 1) for c in chunks))
        group = together if len(chunks) == 1 else AnyOf((together, apart))
        expanded = _alternatives(group, table.get(joined, ()))
        spelled = (joined, *chunks) if len(chunks) > 1 else (joined,)
        return Plan((expanded,), (joined,), table.get(joined, ()), tuple(chunks), spelled)
    groups: list[Expr] = []
    related: list[str] = []
    terms: list[str] = []
    for chunk in chunks:
        tokens = words(chunk)
        atoms = _seq(tokens, keep_lone=len(tokens) == 1)
        parts: list[Expr] = []
        for atom in atoms:
            expansions = table.get(atom.words[0], ()) if len(atom.words) == 1 else ()
            related += [atom.words[0], *expansions]
            terms += ["".join(atom.words), *expansions]
            parts.append(_alternatives(atom, expansions))
        # the chunk as a whole may be a colloquial phrase (身份证丢了) that its words alone miss
        single = len(atoms) == 1 and "".join(atoms[0].words) == key(chunk)
        whole = () if single else table.get(key(chunk), ())
        whole += _inner_phrases(tokens, table)
        related += whole
        terms += [chunk, *whole]
        if parts:
            main: Expr = parts[0] if len(parts) == 1 else AllOf(tuple(parts))
            groups.append(_alternatives(main, whole))
        elif whole:
            groups.append(_alternatives(Atom((chunk,)), whole))
    exact = tuple(dict.fromkeys(["".join(chunks), core("".join(chunks))]))
    return Plan(tuple(groups), exact, tuple(dict.fromkeys(map(key, related))), tuple(dict.fromkeys(terms)))


def tsquery(expr: Expr) -> str:
    """PostgreSQL tsquery text; every lexeme quoted, so no user input is read as an operator."""
    if isinstance(expr, Atom):
        quoted = [f"'{w}'" for w in (w.replace("\\", "\\\\").replace("'", "''") for w in expr.words)]
        return " <-> ".join(quoted) + (":*" if expr.prefix else "")
    sep = " & " if isinstance(expr, AllOf) else " | "
    return "(" + sep.join(tsquery(p) for p in expr.parts) + ")"


def fts5_query(expr: Expr) -> str:
    """SQLite FTS5 MATCH text; every word in double quotes, so none is read as an operator."""
    if isinstance(expr, Atom):
        phrase = " ".join(expr.words).replace('"', '""')
        return f'"{phrase}"' + ("*" if expr.prefix else "")
    sep = " AND " if isinstance(expr, AllOf) else " OR "
    return "(" + sep.join(fts5_query(p) for p in expr.parts) + ")"


def combined(plan: Plan, relaxed: bool) -> Expr:
    if len(plan.groups) == 1:
        return plan.groups[0]
    return AnyOf(plan.groups) if relaxed else AllOf(plan.groups)
