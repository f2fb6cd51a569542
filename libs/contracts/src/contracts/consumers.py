"""Which service consumes which topics: documents the subscriptions in the AsyncAPI document."""

from __future__ import annotations

CONSUMED_TOPICS: dict[str, list[str]] = {
    "intake": ["catalog.items", "backoffice.tasks"],
    "backoffice": ["intake.applications", "catalog.items"],
    "datashare": ["backoffice.tasks"],
    "notify": [
        "intake.tickets",
        "intake.applications",
        "backoffice.tasks",
        "datashare.access",
    ],
}
