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
    scope: str  # the caller's token must carry it (services check it again)
    rate_per_s: float = 20.0  # per caller (a citizen, or a system client) and route
    pattern: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{[a-z_]+\}", r"[^/]+", self.path)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


ROUTES: tuple[Route, ...] = (
    Route("catalog", "POST", "/departments", "catalog:write"),
    Route("catalog", "POST", "/items", "catalog:write"),
    Route("catalog", "GET", "/items", "catalog:read", rate_per_s=50),
    Route("catalog", "GET", "/items/{item_id}", "catalog:read", rate_per_s=50),
    Route("catalog", "GET", "/items/{item_id}/versions/{version}", "catalog:read"),
    Route("catalog", "POST", "/items/{item_id}/publish", "catalog:write"),
    Route("catalog", "POST", "/items/{item_id}/retire", "catalog:write"),
    Route("catalog", "POST", "/items/import", "catalog:write", rate_per_s=1),
    Route("catalog", "GET", "/items/export", "catalog:read", rate_per_s=1),
    Route("catalog", "GET", "/items/{item_id}/guide", "catalog:read", rate_per_s=50),
    Route("catalog", "GET", "/items/{item_id}/guide.html", "catalog:read"),
    Route("catalog", "GET", "/statistics", "catalog:read"),
    Route("intake", "POST", "/applications", "intake:apply", rate_per_s=5),
    Route("intake", "GET", "/applications/{application_id}", "intake:read"),
    Route("intake", "GET", "/items/{item_id}", "catalog:read"),
    Route("backoffice", "GET", "/tasks", "backoffice:read"),
    Route("backoffice", "GET", "/applications/{application_id}/task", "backoffice:read"),
    Route("notify", "GET", "/messages", "notify:read"),
    Route("datashare", "GET", "/certificates/{certificate_id}", "datashare:read"),
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
