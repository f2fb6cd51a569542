"""Fetch the jars of a real Apache Kafka broker from Maven Central into a local cache."""

import fcntl
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from localinfra.errors import InfraError, missing_tool
from localinfra.paths import CACHE_DIR, KAFKA_POM, REPO_ROOT
from localinfra.proc import run_checked

DEFAULT_LIBS = CACHE_DIR / "kafka-libs"
_JAR = re.compile(r"^kafka_2\.13-(\d+\.\d+\.\d+[\w.-]*)\.jar$")
_POM_VERSION = re.compile(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>")
# A cold ~/.m2 downloads ~43 MB; generous, but a hung Maven must not hang the test run.
_MAVEN_TIMEOUT = 900.0


def pinned_kafka_version(pom: Path = KAFKA_POM) -> str:
    """The Kafka version pinned in infra/kafka/pom.xml."""
    match = _POM_VERSION.search(pom.read_text(encoding="utf-8"))
    if match is None:
        raise InfraError(f"no <kafka.version> property in {pom}")
    return match.group(1)


def kafka_version(libs: Path) -> str:
    """The broker version, read from the kafka_2.13-X.jar file name in `libs`."""
    versions = sorted(m.group(1) for p in libs.glob("kafka_2.13-*.jar") if (m := _JAR.match(p.name)))
    if not versions:
        raise InfraError(f"no kafka_2.13-*.jar in {libs}: run `python -m localinfra jars`")
    if len(versions) > 1:
        raise InfraError(f"several Kafka versions in {libs} ({', '.join(versions)}): delete it")
    return versions[0]


def _has_version(libs: Path, version: str) -> bool:
    return (libs / f"kafka_2.13-{version}.jar").is_file()


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    # Parallel pytest workers (xdist) or CI jobs may warm the same cache at once.
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_kafka_jars(cache: Path = DEFAULT_LIBS) -> Path:
    """Return a directory holding the broker's runtime jars, downloading them with Maven once.

    The cache is checked against the version pinned in the pom, so bumping the pin refreshes a
    stale cache instead of silently running the old broker.
    """
    wanted = pinned_kafka_version()
    if _has_version(cache, wanted):
        return cache
    mvn = shutil.which("mvn")
    if mvn is None:
        raise missing_tool("mvn", "install Maven 3.8+ (apt-get install maven) to fetch Kafka")
    cache.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(cache.parent / f".{cache.name}.lock"):
        if _has_version(cache, wanted):  # another process finished while we waited
            return cache
        # Download next to the cache and rename, so an interrupted run never leaves half a libs/.
        staging = Path(tempfile.mkdtemp(prefix=f".{cache.name}-", dir=cache.parent))
        try:
            run_checked(
                [
                    mvn, "-q", "-B", "-f", str(KAFKA_POM),
                    "dependency:copy-dependencies",
                    "-DincludeScope=runtime",
                    f"-DoutputDirectory={staging}",
                ],
                what="Maven download of the Kafka jars",
                timeout=_MAVEN_TIMEOUT,
                cwd=REPO_ROOT,
            )  # fmt: skip
            if not _has_version(staging, wanted):
                raise InfraError(f"Maven finished but kafka_2.13-{wanted}.jar is not in {staging}")
            if cache.exists():
                shutil.rmtree(cache)
            staging.rename(cache)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return cache
