"""Notify worker: `python -m notify.worker` runs its outbox relay and its consumers."""

from __future__ import annotations

import asyncio

from notify.handlers import SUBSCRIPTIONS
from notify.settings import NotifySettings
from servicekit.worker import main

if __name__ == "__main__":
    asyncio.run(main("notify", NotifySettings(), SUBSCRIPTIONS))
