"""Catalog worker: `python -m catalog.worker` runs its outbox relay (and consumers, when it has any)."""

from __future__ import annotations

import asyncio

from catalog.handlers import SUBSCRIPTIONS
from catalog.settings import CatalogSettings
from servicekit.worker import main

if __name__ == "__main__":
    asyncio.run(main("catalog", CatalogSettings(), SUBSCRIPTIONS))
