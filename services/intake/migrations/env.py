"""Alembic environment of the intake database."""

import intake.applications.models
import intake.hall.models  # noqa: F401  (registers the hall tables on Base)
from intake.models import Base
from messaging.tables import metadata as messaging_metadata
from servicekit.migrations import run_env

run_env([Base.metadata, messaging_metadata])
