"""Search API schemas: one hit with its highlight, the facet counts, the page."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SearchHit(BaseModel):
    item_id: str
    version: int
    name: str
    department: str = Field(description="Department code")
    department_name: str
    item_type: str
    handling_type: str
    deciding_level: str
    trips: int
    minsheng: bool
    one_certificate: bool = Field(description="一证通办: only the ID card needs bringing")
    highlight: str = Field(
        description="HTML-escaped name (and the synonym or guide text that matched), matches in <em>"
    )


class SearchFacets(BaseModel):
    """Counts over the whole filtered result, not just the page (extrapolated when `estimated`)."""

    department: dict[str, int]
    type: dict[str, int]
    topic: dict[str, int]
    handling_type: dict[str, int]
    level: dict[str, int]
    zero_trip: int = Field(description="零次跑: no visit to the hall")
    one_certificate: int = Field(description="一证通办")
    minsheng: int = Field(description="民生事项")


class SearchPage(BaseModel):
    items: list[SearchHit]
    total: int
    estimated: bool = Field(
        default=False,
        description="More matches than one search reads (300 on PostgreSQL, 2,000 without words): the "
        "page is ranked among those and every exact or related match; total and facets are extrapolated",
    )
    offset: int
    limit: int
    facets: SearchFacets
