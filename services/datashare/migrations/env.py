"""Alembic environment of the datashare database."""

from datashare.models import Base
from messaging.tables import metadata as messaging_metadata
from servicekit.migrations import run_env

run_env([Base.metadata, messaging_metadata])
