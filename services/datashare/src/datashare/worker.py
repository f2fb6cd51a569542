"""Datashare worker: `python -m datashare.worker` runs its outbox relay and its consumers."""

from __future__ import annotations

import asyncio

from datashare.handlers import SUBSCRIPTIONS
from datashare.settings import DatashareSettings
from servicekit.worker import main

if __name__ == "__main__":
    asyncio.run(main("datashare", DatashareSettings(), SUBSCRIPTIONS))
