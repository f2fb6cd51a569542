"""Matching a request to the route table, compiled once: a dict for fixed paths, one regex per method.

A fixed path wins over a template that would also match it (GET /items/export is the export with
its own limit, not the item "export").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gateway.routes import PREFIX, ROUTES, Route


class RouteNotFound(LookupError):
    pass


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._fixed: dict[tuple[str, str, str], Route] = {}
        templates: dict[tuple[str, str], list[Route]] = {}
        for route in routes:
            if route.literal:
                self._fixed.setdefault((route.service, route.method, route.path), route)
            else:
                templates.setdefault((route.service, route.method), []).append(route)
        # One alternation per service and method, tried in table order; the group says which.
        self._templates: dict[tuple[str, str], tuple[re.Pattern[str], list[Route]]] = {
            key: (re.compile("|".join(f"(?P<r{i}>{r.regex})" for i, r in enumerate(group))), group)
            for key, group in templates.items()
        }

    def match(self, method: str, raw_path: str) -> tuple[Route, str]:
        """The route and upstream path for a gateway path, refusing anything ambiguous.

        Works on the raw (still percent-encoded) path so an encoded slash or dot segment can never
        be decoded into a different route upstream.
        """
        if not raw_path.startswith(PREFIX):
            raise RouteNotFound(raw_path)
        service, _, rest = raw_path[len(PREFIX) :].partition("/")
        upstream_path = "/" + rest
        if "%" in rest or "\\" in rest:
            lowered = rest.lower()
            if "%2f" in lowered or "%5c" in lowered or "%2e" in lowered or "\\" in rest:
                raise RouteNotFound(raw_path)
        if "." in rest and any(segment in (".", "..") for segment in rest.split("/")):
            raise RouteNotFound(raw_path)
        wanted = "GET" if method == "HEAD" else method
        route = self._fixed.get((service, wanted, upstream_path))
        if route is not None:
            return route, upstream_path
        compiled = self._templates.get((service, wanted))
        if compiled is not None:
            found = compiled[0].fullmatch(upstream_path)
            if found is not None and found.lastgroup is not None:
                return compiled[1][int(found.lastgroup[1:])], upstream_path
        raise RouteNotFound(raw_path)


TABLE = RouteTable(ROUTES)
match = TABLE.match
