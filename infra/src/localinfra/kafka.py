"""A real single-node Apache Kafka broker (KRaft) run as a local java process."""

import base64
import logging
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

from localinfra.errors import InfraError, missing_tool
from localinfra.kafka_config import server_properties
from localinfra.kafka_jars import ensure_kafka_jars, kafka_version, pinned_kafka_version
from localinfra.kafka_probe import kafka_answers
from localinfra.ports import LOOPBACK, free_ports, port_open
from localinfra.proc import die_with_parent, run_checked, tail

__all__ = [
    "KafkaBroker",
    "ensure_kafka_jars",
    "kafka_version",
    "pinned_kafka_version",
    "require_java",
    "start_kafka",
]

log = logging.getLogger(__name__)

_JAVA_HINT = "install a JDK 17+ (apt-get install openjdk-17-jre-headless)"
# Small heap and C1-only JIT: a test broker handles little data and should start fast.
_JVM_OPTS = [
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
]


def require_java() -> str:
    """Path of the `java` executable, or InfraError naming what to install."""
    java = shutil.which("java")
    if java is None:
        raise missing_tool("java", _JAVA_HINT)
    return java


def _cluster_id() -> str:
    # StorageTool expects base64url of 16 random bytes without padding (22 characters). One in 64
    # starts with "-", which its argument parser takes for an option: Kafka's own Uuid skips those.
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaBroker:
    """One broker+controller listening on 127.0.0.1, with its data under `workdir`.

    Ports are chosen when the object is built and kept for its lifetime, so restart() brings the
    broker back at the same address and connected clients reconnect by themselves.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        libs: Path | None = None,
        partitions: int = 1,
        port: int | None = None,
        controller_port: int | None = None,
        owns_workdir: bool = False,
    ) -> None:
        self.java = require_java()
        self.libs = libs if libs is not None else ensure_kafka_jars()
        self.version = kafka_version(self.libs)
        self.workdir = workdir.resolve()
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "kafka.log"
        self.properties_path = self.workdir / "server.properties"
        self.partitions = partitions
        spare = iter(free_ports(2))
        self.port = port if port is not None else next(spare)
        self.controller_port = controller_port if controller_port is not None else next(spare)
        self.bootstrap = f"{LOOPBACK}:{self.port}"
        self._owns_workdir = owns_workdir
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"KafkaBroker(version={self.version!r}, bootstrap={self.bootstrap!r})"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        """True while the java process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def _java(self, main_class: str, *args: str) -> list[str]:
        # Quoting is not needed without a shell: the JVM itself expands the '*' classpath entry.
        return [self.java, *_JVM_OPTS, "-cp", f"{self.libs}/*", main_class, *args]

    def _format(self) -> None:
        # A half-formatted directory (interrupted first start) is useless: start it over.
        shutil.rmtree(self.data_dir, ignore_errors=True)
        cmd = self._java(
            "kafka.tools.StorageTool", "format", "--standalone",
            "-t", _cluster_id(), "-c", str(self.properties_path),
        )  # fmt: skip
        done = run_checked(cmd, what="Kafka storage format", timeout=120, cwd=self.workdir)
        with self.log_path.open("a", encoding="utf-8") as out:
            out.write(done.stdout + done.stderr)

    def start(self, timeout: float = 60) -> None:
        """Start the broker (formatting the data dir on first start) and wait until it answers."""
        if self.running:
            return
        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.properties_path.write_text(
            server_properties(
                data_dir=self.data_dir,
                port=self.port,
                controller_port=self.controller_port,
                partitions=self.partitions,
            ),
            encoding="utf-8",
        )
        if not (self.data_dir / "meta.properties").exists():
            self._format()
        with self.log_path.open("ab") as out:
            self._proc = subprocess.Popen(
                self._java("kafka.Kafka", str(self.properties_path)),
                cwd=self.workdir,  # the JVM drops hs_err crash files in its CWD
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                # Own session: Ctrl-C in a terminal reaches pytest/the CLI, which stop the
                # broker in order, instead of killing the broker mid-test.
                start_new_session=True,
            )
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.kill()
            raise
        log.info(
            "Apache Kafka %s ready at %s in %.1f s (log %s)",
            self.version, self.bootstrap, time.monotonic() - started, self.log_path,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60) -> None:
        """Block until the broker answers an admin request; InfraError if it dies or hangs."""
        deadline = time.monotonic() + timeout
        while True:
            proc = self._proc
            if proc is None:
                raise InfraError("Kafka broker was never started")
            code = proc.poll()
            if code is not None:
                raise InfraError(
                    f"Kafka exited with code {code} before it was ready; "
                    f"end of {self.log_path}:\n{tail(self.log_path)}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise InfraError(
                    f"Kafka at {self.bootstrap} not ready within {timeout} s; "
                    f"end of {self.log_path}:\n{tail(self.log_path)}"
                )
            # An open port is not readiness, but checking it first avoids a noisy client
            # connection error on every poll while the JVM boots.
            if port_open(self.port) and kafka_answers(self.bootstrap, min(5.0, remaining)):
                return
            time.sleep(0.2)

    def stop(self, timeout: float = 20) -> None:
        """Graceful stop: SIGTERM (controlled shutdown), SIGKILL if it takes over `timeout` s."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("Kafka did not stop within %s s; killing it", timeout)
            proc.kill()
            proc.wait(10)

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would (for fault-injection tests)."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.kill()
        proc.wait(10)

    def restart(self, timeout: float = 60) -> None:
        """Stop and start again on the same data dir and the same ports."""
        self.stop()
        self.start(timeout)

    def close(self) -> None:
        """Stop the broker and delete its workdir if this object created it."""
        self.stop()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "KafkaBroker":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def start_kafka(workdir: Path | None = None, *, partitions: int = 1) -> KafkaBroker:
    """Start a broker in `workdir` (a new temp dir, removed by close(), when None)."""
    owns = workdir is None
    where = Path(tempfile.mkdtemp(prefix="localinfra-kafka-")) if workdir is None else workdir
    broker = KafkaBroker(where, partitions=partitions, owns_workdir=owns)
    try:
        broker.start()
    except BaseException:
        broker.close()
        raise
    return broker
