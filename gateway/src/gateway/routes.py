"""The route table: the only paths the gateway forwards (an unknown path is a 404 here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PREFIX = "/api/v1/"


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str  # upstream path template, e.g. /items/{item_id}
    pattern: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{[a-z_]+\}", r"[^/]+", self.path)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


ROUTES: tuple[Route, ...] = (
    Route("catalog", "POST", "/departments"),
    Route("catalog", "POST", "/items"),
    Route("catalog", "GET", "/items"),
    Route("catalog", "GET", "/items/{item_id}"),
    Route("catalog", "GET", "/items/{item_id}/versions/{version}"),
    Route("catalog", "POST", "/items/{item_id}/publish"),
    Route("intake", "POST", "/applications"),
    Route("intake", "GET", "/applications/{application_id}"),
    Route("intake", "GET", "/items/{item_id}"),
    Route("backoffice", "GET", "/tasks"),
    Route("backoffice", "GET", "/applications/{application_id}/task"),
    Route("notify", "GET", "/messages"),
    Route("datashare", "GET", "/certificates/{certificate_id}"),
)

SERVICES = ("catalog", "intake", "backoffice", "notify", "datashare")


class RouteNotFound(LookupError):
    pass


def match(method: str, raw_path: str) -> tuple[Route, str]:
    """The route and upstream path for a gateway path, refusing anything ambiguous.

    Works on the raw (still percent-encoded) path so an encoded slash or dot segment can never
    be decoded into a different route upstream.
    """
    if not raw_path.startswith(PREFIX):
        raise RouteNotFound(raw_path)
    service, _, rest = raw_path[len(PREFIX) :].partition("/")
    upstream_path = "/" + rest
    lowered = upstream_path.lower()
    if "%2f" in lowered or "%5c" in lowered or "%2e" in lowered or "\\" in upstream_path:
        raise RouteNotFound(raw_path)
    if any(segment in (".", "..") for segment in upstream_path.split("/")):
        raise RouteNotFound(raw_path)
    wanted = "GET" if method == "HEAD" else method
    for route in ROUTES:
        if route.service == service and route.method == wanted and route.pattern.match(upstream_path):
            return route, upstream_path
    raise RouteNotFound(raw_path)


def documented_paths(service: str) -> set[tuple[str, str]]:
    return {(r.method, r.path) for r in ROUTES if r.service == service}
