"""The report's catalogue figures, per department and for the district, from published items."""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Department, ItemVersion


class CatalogueFigures(BaseModel):
    items: int
    zero_trip: int
    zero_trip_share: float
    minsheng: int
    one_certificate: int  # among 民生 items, as the report counts 一证通办
    one_certificate_share_of_minsheng: float
    on_the_spot: int  # 即办件 items


class DepartmentFigures(CatalogueFigures):
    department_code: str
    department_name: str


class CatalogueStatistics(BaseModel):
    district: CatalogueFigures
    departments_with_items: int
    departments: list[DepartmentFigures]


def _figures(items: list[ItemVersion]) -> CatalogueFigures:
    minsheng = [i for i in items if i.minsheng]
    zero = sum(i.zero_trip for i in items)
    one = sum(i.one_certificate for i in minsheng)
    return CatalogueFigures(
        items=len(items),
        zero_trip=zero,
        zero_trip_share=round(zero / len(items), 4) if items else 0.0,
        minsheng=len(minsheng),
        one_certificate=one,
        one_certificate_share_of_minsheng=round(one / len(minsheng), 4) if minsheng else 0.0,
        on_the_spot=sum(i.handling_type == "即办件" for i in items),
    )


async def catalogue_statistics(session: AsyncSession) -> CatalogueStatistics:
    async with session.begin():
        items = list(await session.scalars(sa.select(ItemVersion).where(ItemVersion.status == "published")))
        names = {
            code: name for code, name in await session.execute(sa.select(Department.code, Department.name))
        }
    by_department: dict[str, list[ItemVersion]] = {}
    for item in items:
        by_department.setdefault(item.department_code, []).append(item)
    departments = [
        DepartmentFigures(
            department_code=code, department_name=names.get(code, code), **_figures(group).model_dump()
        )
        for code, group in sorted(by_department.items(), key=lambda kv: -len(kv[1]))
    ]
    return CatalogueStatistics(
        district=_figures(items), departments_with_items=len(departments), departments=departments
    )
