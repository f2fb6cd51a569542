"""Catalog HTTP routes: thin, no commits here (service.py owns the transaction)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from catalog import guide, service, stats, transfer, tree
from catalog.guide import GuideView
from catalog.models import Department
from catalog.schemas import (
    DepartmentCreate,
    DepartmentPublic,
    ImportResult,
    ItemPublic,
    ItemSpec,
    MainItemCreate,
)
from catalog.stats import CatalogueStatistics
from catalog.tree import TreeNode
from servicekit.auth import requires
from servicekit.deps import SessionDep

router = APIRouter(tags=["catalog"])
# Everyone who may use the platform reads the catalogue; only operators change it.
READ = [Depends(requires("catalog:read"))]
WRITE = [Depends(requires("catalog:write"))]
BASE_CODE = r"^\d{12}$"
DEPARTMENT = r"^[a-z0-9-]{2,40}$"


@router.post(
    "/departments", status_code=status.HTTP_201_CREATED, response_model=DepartmentPublic, dependencies=WRITE
)
async def create_department(body: DepartmentCreate, session: SessionDep) -> Department:
    return await service.create_department(session, body)


@router.post(
    "/main-items", status_code=status.HTTP_201_CREATED, response_model=MainItemCreate, dependencies=WRITE
)
async def create_main_item(body: MainItemCreate, session: SessionDep) -> MainItemCreate:
    """主项: a heading that 子项 name as their parent_base_code."""
    return tree.main_item_spec(await service.create_main_item(session, body))


@router.get("/main-items", response_model=list[TreeNode], dependencies=READ)
async def browse_tree(
    session: SessionDep,
    department: Annotated[str | None, Query(pattern=DEPARTMENT, description="Department code")] = None,
) -> list[TreeNode]:
    """The catalogue as a tree: each 主项 with its 子项, each item with its 业务办理项 (published only)."""
    return await tree.tree(session, department)


@router.get("/main-items/{base_code}", response_model=TreeNode, dependencies=READ)
async def main_item_tree(base_code: Annotated[str, Path(pattern=BASE_CODE)], session: SessionDep) -> TreeNode:
    """One 主项 (a heading, or an item applied for as it is) with everything under it."""
    return (await tree.tree(session, None, base_code))[0]


@router.post("/items", status_code=status.HTTP_201_CREATED, response_model=ItemPublic, dependencies=WRITE)
async def create_item(body: ItemSpec, session: SessionDep) -> ItemPublic:
    return ItemPublic.model_validate(await service.create_item(session, body))


@router.post(
    "/items/import",
    response_model=ImportResult,
    dependencies=WRITE,
    summary="Load a whole list of items (JSON or CSV): all or nothing, bad rows named",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_items(request: Request, session: SessionDep) -> ImportResult:
    fmt: transfer.Format = "csv" if request.headers.get("content-type", "").startswith("text/csv") else "json"
    report = await transfer.import_items(session, transfer.parse(await request.body(), fmt), date.today())
    return ImportResult(
        published=len(report.published),
        unchanged=len(report.unchanged),
        items=report.published,
        main_items=len(report.main_items),
    )


@router.get(
    "/items/export",
    dependencies=READ,
    summary="Every published item, in the import format",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
)
async def export_items(session: SessionDep, format: Literal["json", "csv"] = "json") -> Response:
    media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
    headers = {"Content-Disposition": f'attachment; filename="wucheng-items.{format}"'}
    return Response(await transfer.export_items(session, format), media_type=media, headers=headers)


@router.get("/statistics", response_model=CatalogueStatistics, dependencies=READ)
async def statistics(session: SessionDep) -> CatalogueStatistics:
    """事项 figures as the report counts them: items, 零次跑, 民生, 一证通办, 即办件."""
    return await stats.catalogue_statistics(session)


@router.get("/items/{item_id}/guide", response_model=GuideView, dependencies=READ)
async def item_guide(
    item_id: Annotated[str, Path(max_length=40)],
    session: SessionDep,
    situation: Annotated[str | None, Query(max_length=20)] = None,
) -> GuideView:
    """Everything a citizen needs before leaving home, with the 一次性告知 list."""
    return await service.guide_for(session, item_id, situation)


@router.get("/items/{item_id}/guide.html", response_class=HTMLResponse, dependencies=READ)
async def item_guide_printable(
    item_id: Annotated[str, Path(max_length=40)],
    session: SessionDep,
    situation: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """The same guide as a printable page (print CSS): what the window hands out."""
    return HTMLResponse(guide.render_printable(await service.guide_for(session, item_id, situation)))


@router.post("/items/{item_id}/retire", response_model=ItemPublic, dependencies=WRITE)
async def retire_item(item_id: Annotated[str, Path(max_length=40)], session: SessionDep) -> ItemPublic:
    return ItemPublic.model_validate(await service.retire_item(session, item_id))


@router.post("/items/{item_id}/publish", response_model=ItemPublic, dependencies=WRITE)
async def publish_item(item_id: Annotated[str, Path(max_length=40)], session: SessionDep) -> ItemPublic:
    return ItemPublic.model_validate(await service.publish_item(session, item_id))


@router.get("/items/{item_id}", response_model=ItemPublic, dependencies=READ)
async def get_item(item_id: Annotated[str, Path(max_length=40)], session: SessionDep) -> ItemPublic:
    return ItemPublic.model_validate(await service.get_item(session, item_id))


@router.get("/items/{item_id}/versions/{version}", response_model=ItemPublic, dependencies=READ)
async def get_item_version(
    item_id: Annotated[str, Path(max_length=40)],
    version: Annotated[int, Path(ge=1, le=100_000)],
    session: SessionDep,
) -> ItemPublic:
    return ItemPublic.model_validate(await service.get_item(session, item_id, version))
