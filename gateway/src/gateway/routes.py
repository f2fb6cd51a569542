"""The route table: the only paths the gateway forwards (an unknown path is a 404 here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PREFIX = "/api/v1/"
_PARAM = re.compile(r"\{[a-z_]+\}")


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str  # upstream path template, e.g. /items/{item_id}
    scope: str  # the caller's token must carry it (services check it again)
    rate_per_s: float = 20.0  # per caller (a citizen, or a system client) and route
    name: str = field(init=False, compare=False, repr=False)  # "GET /items/{item_id}"
    regex: str = field(init=False, compare=False, repr=False)  # the template, a parameter = one segment

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"{self.method} {self.path}")
        literals = _PARAM.split(self.path)
        object.__setattr__(self, "regex", "[^/]+".join(re.escape(part) for part in literals))

    @property
    def literal(self) -> bool:
        return _PARAM.search(self.path) is None


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
    Route("catalog", "POST", "/main-items", "catalog:write"),
    Route("catalog", "GET", "/main-items", "catalog:read"),
    Route("catalog", "GET", "/main-items/{base_code}", "catalog:read"),
    Route("intake", "POST", "/applications", "intake:apply", rate_per_s=5),
    Route("intake", "GET", "/applications/{application_id}", "intake:read"),
    # Applications (预审, 无差别受理, 容缺, 出件): citizens and windows apply, departments read their own.
    Route("intake", "GET", "/applications", "intake:read"),
    Route("intake", "POST", "/applications/{application_id}/decision", "intake:apply"),
    Route("intake", "POST", "/applications/{application_id}/materials", "intake:apply", rate_per_s=5),
    Route("intake", "GET", "/applications/{application_id}/notice", "intake:read"),
    Route("intake", "GET", "/applications/{application_id}/files/{file_id}", "intake:read"),
    Route("intake", "POST", "/applications/{application_id}/delivery", "intake:apply", rate_per_s=5),
    Route("intake", "POST", "/bundles", "intake:apply", rate_per_s=5),
    Route("intake", "GET", "/bundles/{bundle_id}", "intake:read"),
    Route("intake", "POST", "/prechecks", "intake:apply", rate_per_s=5),
    Route("intake", "POST", "/files", "intake:apply", rate_per_s=5),
    Route("intake", "POST", "/progress", "intake:read", rate_per_s=5),
    Route("intake", "POST", "/output/pickups", "hall:operate", rate_per_s=5),
    Route("intake", "POST", "/courier/events", "intake:courier", rate_per_s=50),
    Route("intake", "GET", "/statistics", "intake:read", rate_per_s=2),
    Route("intake", "POST", "/rongque/sweep", "admin", rate_per_s=1),
    Route("intake", "GET", "/items/{item_id}", "catalog:read"),
    # The hall (取号, 叫号, 预约): window staff act with hall:operate, operators set halls up.
    Route("intake", "GET", "/halls", "catalog:read"),
    Route("intake", "POST", "/halls", "admin", rate_per_s=5),
    Route("intake", "GET", "/halls/{hall_id}", "catalog:read"),
    Route("intake", "POST", "/halls/{hall_id}/queues", "admin"),
    Route("intake", "POST", "/halls/{hall_id}/windows", "admin"),
    Route("intake", "POST", "/halls/{hall_id}/slots", "admin", rate_per_s=2),
    Route("intake", "GET", "/halls/{hall_id}/slots", "catalog:read", rate_per_s=50),
    Route("intake", "POST", "/halls/{hall_id}/close-day", "admin", rate_per_s=1),
    Route("intake", "GET", "/halls/{hall_id}/display", "catalog:read", rate_per_s=50),
    Route("intake", "GET", "/halls/{hall_id}/display/stream", "catalog:read", rate_per_s=2),
    Route("intake", "GET", "/halls/{hall_id}/statistics", "hall:operate", rate_per_s=5),
    Route("intake", "PATCH", "/windows/{window_code}", "admin"),
    Route("intake", "POST", "/windows/{window_code}/pause", "hall:operate"),
    Route("intake", "POST", "/windows/{window_code}/resume", "hall:operate"),
    Route("intake", "POST", "/windows/{window_code}/call-next", "hall:operate"),
    Route("intake", "POST", "/windows/{window_code}/call", "hall:operate"),
    Route("intake", "POST", "/tickets", "intake:apply", rate_per_s=5),
    Route("intake", "GET", "/tickets", "intake:read"),
    Route("intake", "GET", "/tickets/{ticket_id}", "intake:read", rate_per_s=50),
    Route("intake", "POST", "/tickets/{ticket_id}/cancel", "intake:apply"),
    Route("intake", "POST", "/tickets/{ticket_id}/recall", "hall:operate"),
    Route("intake", "POST", "/tickets/{ticket_id}/start", "hall:operate"),
    Route("intake", "POST", "/tickets/{ticket_id}/finish", "hall:operate"),
    Route("intake", "POST", "/tickets/{ticket_id}/no-show", "hall:operate"),
    Route("intake", "POST", "/tickets/{ticket_id}/transfer", "hall:operate"),
    Route("intake", "POST", "/appointments", "intake:apply", rate_per_s=5),
    Route("intake", "GET", "/appointments", "intake:read"),
    Route("intake", "GET", "/appointments/{appointment_id}", "intake:read"),
    Route("intake", "POST", "/appointments/{appointment_id}/cancel", "intake:apply"),
    Route("intake", "POST", "/appointments/{appointment_id}/check-in", "intake:apply"),
    Route("intake", "POST", "/appointments/{appointment_id}/no-show", "hall:operate"),
    Route("backoffice", "GET", "/tasks", "backoffice:read"),
    Route("backoffice", "GET", "/applications/{application_id}/task", "backoffice:read"),
    Route("backoffice", "GET", "/tasks/{task_id}", "backoffice:read", rate_per_s=50),
    Route("backoffice", "GET", "/tasks/{task_id}/audit", "backoffice:read"),
    Route("backoffice", "POST", "/tasks/{task_id}/claim", "backoffice:decide"),
    Route("backoffice", "POST", "/tasks/{task_id}/release", "backoffice:decide"),
    Route("backoffice", "POST", "/tasks/{task_id}/reassign", "backoffice:decide"),
    Route("backoffice", "POST", "/tasks/{task_id}/transfer", "backoffice:decide"),
    Route("backoffice", "POST", "/tasks/{task_id}/approve", "backoffice:decide"),
    Route("backoffice", "POST", "/tasks/{task_id}/reject", "backoffice:decide"),
    Route("backoffice", "POST", "/tasks/{task_id}/buzheng", "backoffice:decide"),
    Route("backoffice", "POST", "/tasks/{task_id}/special-step", "backoffice:decide"),
    Route("backoffice", "POST", "/tasks/{task_id}/resume", "backoffice:decide"),
    Route("backoffice", "POST", "/tasks/{task_id}/extend", "backoffice:decide"),
    Route("backoffice", "GET", "/subtasks", "backoffice:read"),
    Route("backoffice", "POST", "/subtasks/{subtask_id}/complete", "backoffice:decide"),
    Route("backoffice", "POST", "/applications/{application_id}/ratings", "rating:write", rate_per_s=2),
    Route("backoffice", "POST", "/ratings/{rating_id}/follow-up", "rating:write", rate_per_s=2),
    Route("backoffice", "GET", "/followups", "backoffice:read"),
    Route("backoffice", "POST", "/followups/{followup_id}/visit", "backoffice:decide"),
    Route("backoffice", "POST", "/followups/{followup_id}/rectify", "backoffice:decide"),
    Route("backoffice", "POST", "/complaints", "complaint:write", rate_per_s=5),
    Route("backoffice", "GET", "/complaints", "backoffice:read"),
    Route("backoffice", "POST", "/complaints/{complaint_id}/answer", "backoffice:decide"),
    Route("backoffice", "GET", "/statistics", "backoffice:read", rate_per_s=2),
    Route("backoffice", "POST", "/supervision/sweep", "admin", rate_per_s=1),
    Route("notify", "GET", "/messages", "notify:read"),
    Route("notify", "GET", "/inbox", "notify:read"),
    Route("notify", "POST", "/inbox/{message_id}/read", "notify:read"),
    Route("notify", "GET", "/contacts/me", "notify:read"),
    Route("notify", "PUT", "/contacts/me", "notify:read", rate_per_s=2),
    Route("notify", "PUT", "/contacts/{owner_id}", "admin", rate_per_s=5),
    Route("notify", "GET", "/messages/{message_id}", "admin"),
    Route("notify", "GET", "/dead-letters", "admin"),
    Route("notify", "POST", "/dead-letters/{dead_letter_id}/redrive", "admin", rate_per_s=5),
    Route("notify", "GET", "/alerts", "admin"),
    Route("notify", "GET", "/templates", "admin"),
    Route("notify", "GET", "/triggers", "admin"),
    # Data sharing: consumers (departments, intake) request evidence; citizens see and steer theirs.
    Route("datashare", "POST", "/evidence-requests", "datashare:request", rate_per_s=100),
    Route("datashare", "GET", "/evidence-requests/{request_id}", "datashare:request"),
    Route("datashare", "POST", "/resolutions", "datashare:request", rate_per_s=100),
    Route("datashare", "GET", "/keys", "datashare:request"),
    Route("datashare", "GET", "/access-log", "datashare:request"),
    Route("datashare", "POST", "/access-log/subject", "datashare:read"),
    Route("datashare", "GET", "/access-log/verify", "admin", rate_per_s=1),
    Route("datashare", "GET", "/certificates/{certificate_id}", "datashare:read"),
    Route("datashare", "POST", "/certificates", "backoffice:decide"),
    Route("datashare", "POST", "/certificates/search", "datashare:read"),
    Route("datashare", "POST", "/certificates/{certificate_id}/revoke", "backoffice:decide"),
    Route("datashare", "POST", "/consents", "datashare:read", rate_per_s=5),
    Route("datashare", "GET", "/consents", "datashare:read"),
    Route("datashare", "POST", "/consents/{consent_id}/revoke", "datashare:read", rate_per_s=5),
    Route("datashare", "GET", "/members", "datashare:request"),
    Route("datashare", "POST", "/members", "admin", rate_per_s=5),
    Route("datashare", "POST", "/members/{member_code}/subsystems", "admin", rate_per_s=5),
    Route("datashare", "GET", "/certificate-types", "datashare:request"),
    Route("datashare", "PUT", "/certificate-types/{code}", "admin", rate_per_s=5),
    Route("datashare", "GET", "/access-rules", "datashare:request"),
    Route("datashare", "POST", "/access-rules", "admin", rate_per_s=5),
    Route("datashare", "POST", "/access-rules/{rule_id}/revoke", "admin", rate_per_s=5),
)

SERVICES = ("catalog", "intake", "backoffice", "notify", "datashare")


def documented_paths(service: str) -> set[tuple[str, str]]:
    return {(r.method, r.path) for r in ROUTES if r.service == service}
