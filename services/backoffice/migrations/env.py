"""Alembic environment of the backoffice database."""

from backoffice import supervision_models  # noqa: F401  (its tables join Base.metadata)
from backoffice.models import Base
from messaging.tables import metadata as messaging_metadata
from servicekit.migrations import run_env

run_env([Base.metadata, messaging_metadata])
