"""`GET /items`: the catalogue's search (Chinese words, pinyin, colloquial synonyms), filters and facets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from catalog.schemas import HandlingType, ItemTypeName, Level, Topic
from catalog.search.highlight import highlight
from catalog.search.query import Filters, search
from catalog.search.schemas import SearchFacets, SearchHit, SearchPage
from servicekit.auth import requires
from servicekit.deps import SessionDep

router = APIRouter(tags=["catalog"])


@router.get(
    "/items",
    response_model=SearchPage,
    dependencies=[Depends(requires("catalog:read"))],
    summary="Search published items (全文检索: 中文分词、拼音、首字母、繁体、口语词)",
)
async def list_items(
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(max_length=50, description="Words, pinyin (laonianzheng) or initials (lnz); Traditional ok"),
    ] = None,
    department: Annotated[
        str | None, Query(pattern=r"^[a-z0-9-]{2,40}$", description="Department code")
    ] = None,
    item_type: Annotated[ItemTypeName | None, Query(alias="type")] = None,
    topic: Annotated[Topic | None, Query()] = None,
    handling_type: Annotated[HandlingType | None, Query(description="办件类型, e.g. 即办件")] = None,
    level: Annotated[Level | None, Query(description="Deciding level")] = None,
    zero_trip: Annotated[bool | None, Query(description="零次跑: fully online")] = None,
    one_certificate: Annotated[bool | None, Query(description="一证通办: ID card only")] = None,
    minsheng: Annotated[bool | None, Query(description="民生事项")] = None,
    main_item: Annotated[
        str | None, Query(pattern=r"^\d{12}$", description="主项 base code: its 子项 and their 办理项")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> Response:
    filters = Filters(
        department=department,
        item_type=item_type,
        topic=topic,
        handling_type=handling_type,
        level=level,
        zero_trip=zero_trip,
        one_certificate=one_certificate,
        minsheng=minsheng,
        main_item=main_item,
    )
    found = await search(session, q, filters, offset=offset, limit=limit)
    facets = found.facets
    page = SearchPage(
        items=[
            SearchHit(
                item_id=row["item_id"],
                version=row["version"],
                name=row["name"],
                department=row["department_code"],
                department_name=row["department_name"],
                item_type=row["item_type"],
                handling_type=row["handling_type"],
                deciding_level=row["deciding_level"],
                trips=row["trips"],
                minsheng=row["minsheng"],
                one_certificate=row["one_certificate"],
                highlight=highlight(found.plan, row["name"], row["synonyms"], row["body"]),
            )
            for row in found.rows
        ],
        total=facets.total,
        estimated=found.estimated,
        offset=offset,
        limit=limit,
        facets=SearchFacets(
            department=dict(facets.department),
            type=dict(facets.item_type),
            topic=dict(facets.topic),
            handling_type=dict(facets.handling_type),
            level=dict(facets.level),
            zero_trip=facets.zero_trip,
            one_certificate=facets.one_certificate,
            minsheng=facets.minsheng,
        ),
    )
    # Built and checked above; a returned Response skips FastAPI's second validation of it.
    return Response(page.model_dump_json(), media_type="application/json")
