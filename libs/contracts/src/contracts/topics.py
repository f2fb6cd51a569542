"""The topic registry: every topic, its single writer and what its key is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    key: str
    description: str

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"


CATALOG_ITEMS = Topic(
    "catalog.items", "catalog", "item id", "事项 published, revised and retired (八统一 data)"
)
INTAKE_TICKETS = Topic(
    "intake.tickets", "intake", "ticket id", "Hall tickets and appointments (取号, 叫号, 预约)"
)
INTAKE_APPLICATIONS = Topic(
    "intake.applications",
    "intake",
    "application id",
    "Applications accepted at any window or online (受理, 容缺受理), routed to the deciding body",
)
BACKOFFICE_TASKS = Topic(
    "backoffice.tasks", "backoffice", "application id", "Department tasks and their decisions (办结)"
)
DATASHARE_CERTIFICATES = Topic(
    "datashare.certificates",
    "datashare",
    "certificate id",
    "Certificates registered, revoked and expired (电子证照)",
)
DATASHARE_ACCESS = Topic(
    "datashare.access", "datashare", "subject hash", "Evidence released to a consumer (数据调用)"
)
NOTIFY_MESSAGES = Topic(
    "notify.messages", "notify", "message id", "Message delivery statuses (短信, 邮件, 推送)"
)

TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        CATALOG_ITEMS,
        INTAKE_TICKETS,
        INTAKE_APPLICATIONS,
        BACKOFFICE_TASKS,
        DATASHARE_CERTIFICATES,
        DATASHARE_ACCESS,
        NOTIFY_MESSAGES,
    )
}
