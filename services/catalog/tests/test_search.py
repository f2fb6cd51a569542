"""Search of the shipped Wucheng catalogue on real PostgreSQL and SQLite: citizens' queries, filters, facets."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.db import MIGRATIONS_DIR
from catalog.main import create_app
from catalog.seed import load_wucheng
from localinfra.pg_external import ExternalPostgres
from localinfra.postgres import PostgresCluster
from servicekit.identity import Identity
from servicekit.testing import TEST_KEY, app_client, as_caller, migrate

READER = Identity(kind="system", client_id="zlb-app", scopes=frozenset({"catalog:read"}))
# What citizens type, and the item they mean: pinyin, initials, Traditional, colloquial, two characters.
CASES = [
    ("laonianzheng", "老年人优待证办理"),
    ("lnz", "老年人优待证办理"),
    ("lao nian zheng", "老年人优待证办理"),
    ("shebaoka", "社会保障卡申领"),
    ("shbzk", "社会保障卡申领"),
    ("dibao", "最低生活保障对象认定"),
    ("hunjian", "免费婚前医学检查"),
    ("jzz", "居住证申领"),
    ("sfz", "居民身份证首次申领"),
    ("開飯店", "食品经营许可新办"),
    ("護照", "普通护照签发"),
    ("戶口證明", "户籍证明开具"),
    ("結婚登記", "内地居民结婚登记"),
    ("社會保障卡", "社会保障卡申领"),
    ("個體戶", "个体工商户设立登记"),
    ("辦理社保卡", "社会保障卡申领"),
    ("ＫＴＶ", "娱乐场所经营许可"),
    ("生孩子", "生育登记"),
    ("房产证", "国有建设用地使用权及房屋所有权转移登记（存量房买卖）"),
    ("房产证丢了", "不动产权证书补（换）发"),
    ("二手房过户", "国有建设用地使用权及房屋所有权转移登记（存量房买卖）"),
    ("开公司", "有限责任公司设立登记"),
    ("老年证", "老年人优待证办理"),
    ("良民证", "无犯罪记录证明开具"),
    ("领证", "内地居民结婚登记"),
    ("暂住证", "居住登记"),
    ("上户口", "出生登记"),
    ("驾照丢了", "机动车驾驶证补领"),
    ("残疾证", "残疾人证新办"),
    ("独生子女", "农村部分计划生育家庭奖励扶助金给付"),
    ("社保", "社会保障卡申领"),
    ("户口", "户籍证明开具"),
    ("身份", "居民身份证首次申领"),
    ("低保", "最低生活保障对象认定"),
    ("医保", "城乡居民基本医疗保险参保登记"),
    ("护照", "普通护照签发"),
    ("退休", "职工基本养老金申领（退休审批）"),
    ("婚检", "免费婚前医学检查"),
    ("离婚", "内地居民离婚登记"),
    ("身份证", "居民身份证首次申领"),
    ("公租房", "公共租赁住房保障资格申请"),
    ("失业金", "失业保险金申领"),
    ("异地就医", "异地就医备案"),
    ("居住证", "居住证申领"),
    ("营业执照", "个体工商户设立登记"),
    ("身份证丢了怎么办", "居民身份证遗失补领"),
    ("我要办身份证", "居民身份证首次申领"),
    ("社保卡丢了", "社会保障卡补换"),
    ("带押过户", "存量房“带押过户”转移登记"),
    ("水电过户", "存量房转移登记与水电气网联动过户"),
]


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
async def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """The shipped catalogue, loaded once per backend through the normal publish path."""
    if request.param == "postgresql":
        cluster: PostgresCluster | ExternalPostgres = request.getfixturevalue("pg_cluster")
        url = cluster.create_database(f"search_{uuid.uuid4().hex[:12]}")
    else:
        url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('search')) / 'catalog.db'}"
    await migrate(MIGRATIONS_DIR, url)
    app = create_app(url, TEST_KEY)
    async with app_client(app) as http:
        assert await load_wucheng(app.state.sessions) == (35, 376)
        http.headers.update(as_caller(READER))
        yield http


async def _search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/items", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_citizens_queries_find_the_intended_item_in_the_top_3(client: httpx.AsyncClient) -> None:
    assert len(CASES) >= 30
    misses = []
    for q, intended in CASES:
        names = [hit["name"] for hit in (await _search(client, q=q, limit=3))["items"]]
        if intended not in names:
            misses.append(f"{q} -> {names}, wanted {intended}")
    assert not misses, "\n".join(misses)


async def test_an_exact_synonym_ranks_first_and_a_name_beats_the_guide_text(
    client: httpx.AsyncClient,
) -> None:
    assert (await _search(client, q="老年证"))["items"][0]["name"] == "老年人优待证办理"
    assert (await _search(client, q="開飯店"))["items"][0]["name"] == "食品经营许可新办"
    # 结婚 is in the name of one item and only in the materials (结婚证) of the divorce item
    names = [hit["name"] for hit in (await _search(client, q="结婚 照片"))["items"]]
    assert names.index("内地居民结婚登记") < names.index("内地居民离婚登记")
    # a name-level match is the answer; guide text is searched only when no name matches
    assert all("老年" in hit["name"] for hit in (await _search(client, q="老年", limit=5))["items"])
    material = await _search(client, q="户口簿")
    assert material["total"] > 10
    assert all(
        " — " in hit["highlight"] and "<em>户口簿</em>" in hit["highlight"] for hit in material["items"]
    )


async def test_highlights_mark_what_matched(client: httpx.AsyncClient) -> None:
    assert (await _search(client, q="護照"))["items"][0]["highlight"] == "<em>普通护照</em>签发"
    first = (await _search(client, q="lnz"))["items"][0]
    assert first["highlight"] == "老年人优待证办理（<em>老年证</em>）"
    spelled = (await _search(client, q="shenfenzheng", limit=1))["items"][0]["highlight"]
    assert "<em>身份证</em>" in spelled


async def test_filters_narrow_the_result_and_facets_follow(client: httpx.AsyncClient) -> None:
    everything = await _search(client, limit=1)
    facets = everything["facets"]
    assert everything["total"] == 376
    assert not everything["estimated"]
    # the shipped data's own figures (data/README.md)
    assert facets["zero_trip"] == 155
    assert facets["minsheng"] == 99
    assert facets["handling_type"] == {"承诺件": 244, "即办件": 102, "上报件": 25, "联办件": 5}
    assert (await _search(client, minsheng=True, one_certificate=True))["total"] == 64
    cases: list[tuple[dict[str, Any], str, Any]] = [
        ({"department": "wc-gafj"}, "department", "wc-gafj"),
        ({"type": "行政许可"}, "item_type", "行政许可"),
        ({"handling_type": "即办件"}, "handling_type", "即办件"),
        ({"level": "city"}, "deciding_level", "city"),
        ({"zero_trip": True}, "trips", 0),
        ({"one_certificate": True}, "one_certificate", True),
        ({"minsheng": False}, "minsheng", False),
    ]
    for params, field, value in cases:
        page = await _search(client, q="登记", limit=50, **params)
        assert 0 < page["total"] < (await _search(client, q="登记"))["total"], params
        assert all(hit[field] == value for hit in page["items"]), params
    wedding = await _search(client, topic="婚姻", handling_type="即办件")
    assert wedding["facets"]["topic"]["婚姻"] == wedding["total"] > 0
    assert wedding["facets"]["handling_type"] == {"即办件": wedding["total"]}


async def test_facets_count_the_whole_result_not_the_page(client: httpx.AsyncClient) -> None:
    first = await _search(client, q="许可", limit=2)
    total, facets = first["total"], first["facets"]
    assert total > 50
    assert len(first["items"]) == 2
    hits = [
        h
        for offset in range(0, total, 50)
        for h in (await _search(client, q="许可", offset=offset, limit=50))["items"]
    ]
    assert len({h["item_id"] for h in hits}) == total
    assert facets["department"] == dict(Counter(h["department"] for h in hits))
    assert facets["type"] == dict(Counter(h["item_type"] for h in hits))
    assert facets["level"] == dict(Counter(h["deciding_level"] for h in hits))
    assert facets["zero_trip"] == sum(h["trips"] == 0 for h in hits)
    assert facets["one_certificate"] == sum(h["one_certificate"] for h in hits)
    for topic, count in facets["topic"].items():
        assert (await _search(client, q="许可", topic=topic))["total"] == count


async def test_pages_follow_one_order_without_gaps(client: httpx.AsyncClient) -> None:
    whole = [h["item_id"] for h in (await _search(client, q="证明", limit=50))["items"]]
    paged = [
        h["item_id"]
        for o in range(0, 50, 7)
        for h in (await _search(client, q="证明", offset=o, limit=7))["items"]
    ]
    assert paged[: len(whole)] == whole
    beyond = await _search(client, q="证明", offset=10_000)
    assert beyond["items"] == []
    assert beyond["total"] > 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "社" * 51}, "q"),
        ({"limit": 51}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": 10_001}, "offset"),
        ({"type": "行政许可证"}, "type"),
        ({"topic": "旅游"}, "topic"),
        ({"handling_type": "特办件"}, "handling_type"),
        ({"level": "village"}, "level"),
        ({"zero_trip": "maybe"}, "zero_trip"),
        ({"department": "wc-nobody"}, "department"),
        ({"department": "WC MZJ"}, "department"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/items", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"].removeprefix("query.") for e in response.json()["errors"]]


async def test_operators_and_odd_characters_are_only_text(client: httpx.AsyncClient) -> None:
    for q in [
        "'",
        '"',
        "a' | b:* & !c",
        'NEAR("a" "b")',
        "{name_words}: x",
        "()*",
        "\x00社保",
        "AND OR NOT",
        "　",
        "？",
    ]:
        assert (await client.get("/items", params={"q": q})).status_code == 200, q
    hit = (await _search(client, q="<script>社保</script>"))["items"][0]
    assert "<script" not in hit["highlight"]
    assert "<em>" in hit["highlight"]
