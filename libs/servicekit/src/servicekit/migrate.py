"""The one-shot migrate step: `python -m servicekit.migrate <service>` upgrades its database to head.

Reads `<SERVICE>_DATABASE_URL`; never run at application start (compose runs it as its own role).
"""

from __future__ import annotations

import argparse
import importlib
import os
from pathlib import Path

from servicekit.migrations import upgrade

SERVICES = ("catalog", "intake", "backoffice", "notify", "datashare")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--revision", default="head")
    args = parser.parse_args(argv)
    migrations_dir: Path = importlib.import_module(f"{args.service}.db").MIGRATIONS_DIR
    variable = f"{args.service.upper()}_DATABASE_URL"
    url = os.environ.get(variable)
    if not url:
        raise SystemExit(f"{variable} is not set")
    upgrade(migrations_dir, url, args.revision)


if __name__ == "__main__":
    main()
