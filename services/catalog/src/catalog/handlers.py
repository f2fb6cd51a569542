"""Catalog consumes no events: it is the source of item data, not a reader of others'."""

from __future__ import annotations

from servicekit.worker import Subscribe

SUBSCRIPTIONS: list[Subscribe] = []
