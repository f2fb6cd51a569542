"""Intake worker: `python -m intake.worker` runs its outbox relay and its consumers."""

from __future__ import annotations

import asyncio

from intake.handlers import SUBSCRIPTIONS
from intake.settings import IntakeSettings
from servicekit.worker import main

if __name__ == "__main__":
    asyncio.run(main("intake", IntakeSettings(), SUBSCRIPTIONS))
