"""Well-known locations inside the monorepo (found from this file, not from the CWD)."""

from pathlib import Path

# infra/src/localinfra/paths.py -> parents[3] is the repository root.
REPO_ROOT = Path(__file__).resolve().parents[3]
KAFKA_POM = REPO_ROOT / "infra" / "kafka" / "pom.xml"
CACHE_DIR = REPO_ROOT / ".cache"
RUN_DIR = REPO_ROOT / ".run"
