"""Catalog HTTP routes: thin, no commits here (service.py owns the transaction)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from catalog import service
from catalog.models import Department
from catalog.schemas import DepartmentCreate, DepartmentPublic, ItemPage, ItemPublic, ItemSpec
from servicekit.auth import requires
from servicekit.deps import SessionDep

router = APIRouter(tags=["catalog"])
# Everyone who may use the platform reads the catalogue; only operators change it.
READ = [Depends(requires("catalog:read"))]
WRITE = [Depends(requires("catalog:write"))]


@router.post(
    "/departments", status_code=status.HTTP_201_CREATED, response_model=DepartmentPublic, dependencies=WRITE
)
async def create_department(body: DepartmentCreate, session: SessionDep) -> Department:
    return await service.create_department(session, body)


@router.post("/items", status_code=status.HTTP_201_CREATED, response_model=ItemPublic, dependencies=WRITE)
async def create_item(body: ItemSpec, session: SessionDep) -> ItemPublic:
    return ItemPublic.model_validate(await service.create_item(session, body))


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


@router.get("/items", response_model=ItemPage, dependencies=READ)
async def list_items(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=50)] = None,
    department: Annotated[str | None, Query(max_length=40)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ItemPage:
    async with session.begin():
        rows, total = await service.list_items(
            session, q=q, department=department, offset=offset, limit=limit
        )
    return ItemPage(
        items=[ItemPublic.model_validate(r) for r in rows], total=total, offset=offset, limit=limit
    )
