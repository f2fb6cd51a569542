"""A private PostgreSQL cluster run with initdb/pg_ctl as local processes."""

import os
import shlex
import shutil
import signal
import tempfile
from pathlib import Path
from types import TracebackType

from localinfra import pg_admin
from localinfra.errors import InfraError
from localinfra.pg_external import ExternalPostgres
from localinfra.pg_os import (
    as_account,
    ensure_postgres_binaries,
    find_postgres_bindir,
    hand_over,
    server_account,
)
from localinfra.ports import LOOPBACK, free_port
from localinfra.proc import pid_alive, run_checked, signal_pid, tail, wait_pid_gone

__all__ = [
    "ExternalPostgres",
    "PostgresCluster",
    "ensure_postgres_binaries",
    "find_postgres_bindir",
    "postgres_version",
    "start_postgres",
]

ROLE = "app"
# Linux limits a Unix socket path (sun_path) to 107 bytes.
_MAX_SOCKET_PATH = 107


def postgres_version(bindir: Path) -> str:
    """Version of the binaries in `bindir`, e.g. 'PostgreSQL 15.18 (Debian 15.18-0+deb12u1)'."""
    done = run_checked([str(bindir / "postgres"), "--version"], what="postgres --version", timeout=30)
    return done.stdout.strip().replace("postgres (PostgreSQL) ", "PostgreSQL ", 1)


class PostgresCluster:
    """A throwaway (or, for `make stack`, persistent) cluster under `workdir` on 127.0.0.1.

    Role `app` is superuser and logs in without a password (trust auth, loopback only). As root
    the server runs as the `postgres` system user, because initdb and postgres refuse root.
    """

    managed = True

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        durable: bool = False,
        bindir: Path | None = None,
        owns_workdir: bool = False,
    ) -> None:
        self.bindir = bindir if bindir is not None else ensure_postgres_binaries()
        self.workdir = workdir.resolve()
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "postgres.log"
        self.port = port if port is not None else free_port()
        self.durable = durable
        self._account = server_account()
        self._owns_workdir = owns_workdir
        socket_path = f"{self.data_dir}/.s.PGSQL.{self.port}"
        if len(socket_path) > _MAX_SOCKET_PATH:
            raise InfraError(f"workdir path too long for a Unix socket ({socket_path}): use a shorter one")

    def __repr__(self) -> str:
        return f"PostgresCluster(port={self.port}, data_dir='{self.data_dir}')"

    @property
    def admin_url(self) -> str:
        """URL of the `postgres` maintenance database, for asyncpg/psql (no driver suffix)."""
        return self.url("postgres", driver="postgresql")

    def url(self, dbname: str, driver: str = "postgresql+asyncpg") -> str:
        """SQLAlchemy-style URL of database `dbname` (role app, no password, 127.0.0.1)."""
        return f"{driver}://{ROLE}@{LOOPBACK}:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create database `name` and return its SQLAlchemy async URL."""
        pg_admin.create_database(self.admin_url, name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name`, disconnecting sessions still using it."""
        pg_admin.drop_database(self.admin_url, name)

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs (read from postmaster.pid)."""
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
        except OSError:
            return None
        pid = int(first) if first.strip().isdigit() else None
        return pid if pid is not None and pid_alive(pid) else None

    @property
    def running(self) -> bool:
        """True while the postmaster process is alive."""
        return self.pid is not None

    def _run(self, *args: str, what: str, timeout: float) -> None:
        # CWD inside the workdir: the server user may not be allowed into the caller's CWD.
        cmd = as_account(self._account, list(args))
        try:
            run_checked(cmd, what=what, timeout=timeout, cwd=self.workdir)
        except InfraError as exc:
            raise InfraError(f"{exc}\nend of {self.log_path}:\n{tail(self.log_path)}") from exc

    def _server_options(self) -> str:
        options = [
            "-p", str(self.port),
            "-k", str(self.data_dir),
            "-c", f"listen_addresses={LOOPBACK}",
            "-c", "max_connections=300",
        ]  # fmt: skip
        if not self.durable:
            # Throwaway test clusters: losing data on an OS crash does not matter, and skipping
            # fsync makes DDL and commits much faster. Benchmarks pass durable=True.
            options += ["-c", "fsync=off"]
        return shlex.join(options)

    def start(self, timeout: float = 60) -> None:
        """initdb on first start, then `pg_ctl start -w` (returns once connections are accepted)."""
        if self.running:
            return
        hand_over(self.workdir, self._account)
        if not (self.data_dir / "PG_VERSION").exists():
            shutil.rmtree(self.data_dir, ignore_errors=True)  # leftovers of an interrupted initdb
            self._run(
                str(self.bindir / "initdb"), "-D", str(self.data_dir),
                "-A", "trust", "-U", ROLE, "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
                what="initdb", timeout=120,
            )  # fmt: skip
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_path),
            "-o", self._server_options(), "-w", "-t", str(int(timeout)), "start",
            what="pg_ctl start", timeout=timeout + 10,
        )  # fmt: skip

    def stop(self, timeout: float = 30) -> None:
        """Fast shutdown (disconnect clients, checkpoint); SIGKILL if it hangs."""
        if not self.running:
            return
        try:
            self._run(
                str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast",
                "-w", "-t", str(int(timeout)), "stop",
                what="pg_ctl stop", timeout=timeout + 10,
            )  # fmt: skip
        except InfraError:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends at once, like a crash (for fault tests).

        pg_ctl starts the postmaster in its own session, so its process group is exactly the
        server. Waiting for every member to go lets the next start() reuse the shared memory.
        """
        pid = self.pid
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            signal_pid(pid, signal.SIGKILL)
        if not wait_pid_gone(pid, 10):
            raise InfraError(f"PostgreSQL postmaster {pid} survived SIGKILL")
        # The orphaned postmaster is reaped by PID 1, which on some machines does so only every
        # second or two. Until then its zombie makes postmaster.pid look owned by a live
        # process and the next start fails with "lock file already exists". The process is
        # dead, so once the wait below runs out the stale lock file is removed instead.
        if not wait_pid_gone(pid, 5, reaped=True):
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def restart(self, timeout: float = 60) -> None:
        """Stop (if running) and start again on the same data dir and port."""
        self.stop()
        self.start(timeout)

    def close(self) -> None:
        """Stop the server and delete its workdir if this object created it."""
        self.stop()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "PostgresCluster":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def start_postgres(workdir: Path | None = None, durable: bool = False) -> PostgresCluster:
    """Start a cluster in `workdir` (a new temp dir, removed by close(), when None)."""
    owns = workdir is None
    where = Path(tempfile.mkdtemp(prefix="localinfra-pg-")) if workdir is None else workdir
    cluster = PostgresCluster(where, durable=durable, owns_workdir=owns)
    try:
        cluster.start()
    except BaseException:
        cluster.close()
        raise
    return cluster
