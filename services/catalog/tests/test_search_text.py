"""Pure functions of the search: folding, words, pinyin, the query plan and highlighting."""

from __future__ import annotations

from catalog.search.highlight import highlight
from catalog.search.plan import combined, fts5_query, parse, tsquery
from catalog.search.text import core, fold, index_words, initials, pinyin, pinyin_words, words


def test_traditional_full_width_and_control_characters_fold() -> None:
    assert fold("護照簽證辦理與戶口遷移") == "护照签证办理与户口迁移"
    assert fold("ＫＴＶ１２３\x00") == "KTV123 "


def test_index_words_keep_the_dictionary_words_inside_long_names() -> None:
    found = index_words("食品经营许可新办")
    assert {"食品经营许可新办", "食品经营许可", "许可"} <= set(found)
    assert {"社保", "社保卡"} <= set(index_words("办社保卡"))
    assert {"居民身份证", "身份证", "身份"} <= set(index_words("居民身份证首次申领"))
    assert words("开饭店") == ["开饭店"]  # the userdict keeps the colloquial word whole


def test_pinyin_and_initials() -> None:
    assert (pinyin("银行"), initials("社会保障卡")) == ("yinhang", "shbzk")
    assert {"laonianzheng", "lnz"} <= set(pinyin_words(["老年证"], []))


def test_exact_matching_ignores_the_verbs_around_a_subject() -> None:
    assert core("办身份证") == core("身份证办理") == "身份证"
    assert core("补办身份证") == "补办身份证"
    assert core("办理") == "办理"


def test_the_plan_expands_colloquial_words_and_drops_filler() -> None:
    plan = parse("我要办身份证")
    assert "居民身份证首次申领" in plan.related
    assert tsquery(combined(plan, relaxed=False)) == "('办身份证' | '居民身份证首次申领')"
    assert parse("lao nian zheng").exact == ("laonianzheng",)
    assert parse("？？").empty
    assert parse(None).empty


def test_operators_in_queries_are_quoted_for_both_backends() -> None:
    plan = parse('社保\' | 卡:* & !c "d" NEAR')
    assert tsquery(combined(plan, relaxed=False)) == (
        "(('社保' | '社会保险' | '社会保障') & '卡' & 'c' & 'd' & 'near':*)"
    )
    assert fts5_query(combined(plan, relaxed=True)) == (
        '(("社保" OR "社会保险" OR "社会保障") OR "卡" OR "c" OR "d" OR "near"*)'
    )


def test_highlight_escapes_first_and_marks_matches() -> None:
    assert (
        highlight(parse("社保"), "<b>社会保障卡</b>申领", "", "")
        == "&lt;b&gt;<em>社会保障</em>卡&lt;/b&gt;申领"
    )
    assert (
        highlight(parse("lnz"), "老年人优待证办理", "老年证\n老人证", "")
        == "老年人优待证办理（<em>老年证</em>）"
    )
    body = "居民身份证\n" + "近" * 40 + "户口簿原件" + "远" * 80
    marked = highlight(parse("户口簿"), "某事项", "", body)
    assert marked.startswith("某事项 — …")
    assert "<em>户口簿</em>" in marked
    assert marked.endswith("…")
