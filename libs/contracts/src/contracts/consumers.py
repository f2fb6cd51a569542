"""Which service consumes which topics: documents the subscriptions in the AsyncAPI document."""

from __future__ import annotations

CONSUMED_TOPICS: dict[str, list[str]] = {
    "intake": ["backoffice.tasks", "catalog.items"],
    "backoffice": ["catalog.items", "intake.applications"],
    "datashare": ["backoffice.tasks", "catalog.items"],
    "notify": [
        "backoffice.tasks",
        "catalog.items",
        "datashare.access",
        "intake.applications",
        "intake.tickets",
    ],
}
