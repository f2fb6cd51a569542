"""Alembic environment of the notify database."""

from messaging.tables import metadata as messaging_metadata
from notify.models import Base
from servicekit.migrations import run_env

run_env([Base.metadata, messaging_metadata])
