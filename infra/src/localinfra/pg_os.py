"""Finding PostgreSQL's server binaries and the OS user that may run them (initdb refuses root)."""

import os
import pwd
import re
import shutil
import stat
from pathlib import Path

from localinfra.errors import InfraError
from localinfra.proc import run_checked

SERVER_USER = "postgres"
_DEBIAN_BINDIRS = Path("/usr/lib/postgresql")


def _major(bindir: Path) -> int:
    match = re.fullmatch(r"\d+", bindir.parent.name)
    return int(match.group()) if match else 0


def find_postgres_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl (PATH first, then Debian's versioned dirs)."""
    initdb = shutil.which("initdb")
    if initdb is not None:
        # /usr/local/bin/initdb is often a symlink; its target dir also holds `postgres`.
        bindir = Path(initdb).resolve().parent
        if (bindir / "pg_ctl").exists():
            return bindir
    candidates = [
        d for d in _DEBIAN_BINDIRS.glob("*/bin") if (d / "initdb").exists() and (d / "pg_ctl").exists()
    ]
    return max(candidates, key=_major) if candidates else None


def ensure_postgres_binaries() -> Path:
    """Return the PostgreSQL bin dir, installing Debian's `postgresql` package when root."""
    bindir = find_postgres_bindir()
    if bindir is not None:
        return bindir
    if os.geteuid() != 0:
        raise InfraError(
            "initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin: install the "
            "PostgreSQL server (apt-get install postgresql) or set DATABASE_URL"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run_checked(["apt-get", "update"], what="apt-get update", timeout=600, env=env)
    run_checked(
        ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"],
        what="apt-get install postgresql",
        timeout=900,
        env=env,
    )
    bindir = find_postgres_bindir()
    if bindir is None:
        raise InfraError("apt-get installed postgresql but initdb/pg_ctl are still not found")
    return bindir


def server_account() -> pwd.struct_passwd | None:
    """The account to run the server as: None for a non-root caller (runs as itself).

    PostgreSQL refuses to run as root, so as root the `postgres` system user is used and created
    when missing.
    """
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        run_checked(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--shell", "/usr/sbin/nologin", SERVER_USER],
            what=f"creating the {SERVER_USER} system user",
            timeout=60,
        )  # fmt: skip
        return pwd.getpwnam(SERVER_USER)


def as_account(account: pwd.struct_passwd | None, cmd: list[str]) -> list[str]:
    """Prefix `cmd` so it runs as `account` (runuser execs directly, no login shell)."""
    if account is None:
        return cmd
    return ["runuser", "-u", account.pw_name, "--", *cmd]


def hand_over(path: Path, account: pwd.struct_passwd | None) -> None:
    """Create `path` and make it owned by `account`; check the account can reach it."""
    path.mkdir(parents=True, exist_ok=True)
    if account is None:
        return
    os.chown(path, account.pw_uid, account.pw_gid)
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH and parent.stat().st_uid != account.pw_uid:
            raise InfraError(
                f"user {account.pw_name} cannot enter {parent} (no o+x): use a workdir it can "
                f"reach, e.g. under /tmp, or `chmod o+x {parent}`"
            )
