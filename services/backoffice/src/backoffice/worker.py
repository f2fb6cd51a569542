"""Backoffice worker: `python -m backoffice.worker` runs its outbox relay and its consumers."""

from __future__ import annotations

import asyncio

from backoffice.handlers import SUBSCRIPTIONS
from backoffice.settings import BackofficeSettings
from servicekit.worker import main

if __name__ == "__main__":
    asyncio.run(main("backoffice", BackofficeSettings(), SUBSCRIPTIONS))
