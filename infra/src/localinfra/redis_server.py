"""A private Redis server (Debian's redis-server) run as a local process on 127.0.0.1."""

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from localinfra.errors import InfraError, missing_tool
from localinfra.ports import LOOPBACK, free_port
from localinfra.proc import die_with_parent, run_checked, tail

__all__ = ["RedisServer", "redis_version", "start_redis"]


def find_redis_server() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise missing_tool("redis-server", "apt-get install -y redis-server (.ci/run installs it)")
    return found


def redis_version() -> str:
    """e.g. 'Redis 7.0.15' (from `redis-server --version`)."""
    done = run_checked([find_redis_server(), "--version"], what="redis-server --version", timeout=30)
    version = next((p[2:] for p in done.stdout.split() if p.startswith("v=")), done.stdout.strip())
    return f"Redis {version}"


def _ping(port: int, timeout: float = 0.5) -> bool:
    """True when a Redis server answers PING on the port (RESP spoken by hand: no client needed)."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """redis-server on 127.0.0.1 without persistence; stop() and start() keep the same port.

    Run in the foreground as our child (no daemonize), so it dies with the test process too.
    """

    def __init__(self, workdir: Path, *, port: int | None = None, owns_workdir: bool = False) -> None:
        self.binary = find_redis_server()
        self.workdir = workdir.resolve()
        self.port = port if port is not None else free_port()
        self.log_path = self.workdir / "redis.log"
        self._owns_workdir = owns_workdir
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"RedisServer(port={self.port})"

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 30) -> None:
        """Start and wait until it answers PING."""
        if self.running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = [
            self.binary,
            "--bind", LOOPBACK, "--port", str(self.port), "--dir", str(self.workdir),
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", str(self.log_path), "--protected-mode", "yes",
        ]  # fmt: skip
        self._process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, preexec_fn=die_with_parent
        )
        deadline = time.monotonic() + timeout
        while not _ping(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise InfraError(f"redis-server did not start on port {self.port}:\n{tail(self.log_path)}")
            time.sleep(0.05)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM (SIGKILL if it hangs) and wait: the port is free again afterwards."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def close(self) -> None:
        self.stop()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_redis(workdir: Path | None = None) -> RedisServer:
    """Start a server in `workdir` (a new temp dir, removed by close(), when None)."""
    owns = workdir is None
    where = Path(tempfile.mkdtemp(prefix="localinfra-redis-")) if workdir is None else workdir
    server = RedisServer(where, owns_workdir=owns)
    try:
        server.start()
    except BaseException:
        server.close()
        raise
    return server
