"""Command line: `python -m localinfra up` (Kafka + PostgreSQL for `make stack`) and `jars`."""

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from localinfra.errors import InfraError
from localinfra.kafka import KafkaBroker, ensure_kafka_jars, kafka_version
from localinfra.kafka_jars import DEFAULT_LIBS
from localinfra.paths import RUN_DIR
from localinfra.ports import free_ports, port_open
from localinfra.postgres import PostgresCluster

_PORT_KEYS = ("kafka_port", "kafka_controller_port", "postgres_port")


def _previous_ports(memo: Path) -> dict[str, int]:
    # Reusing last run's ports keeps developers' .env files valid across `make stack` runs.
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
        ports = {k: int(data[k]) for k in _PORT_KEYS}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {k: v for k, v in ports.items() if not port_open(v)}


def _up(args: argparse.Namespace) -> int:
    state: Path = args.state.resolve()
    workdir: Path = args.workdir.resolve()
    memo = workdir / "ports.json"
    ports = _previous_ports(memo)
    # A state file left by a crashed run would tell waiting scripts the stack is already up.
    state.unlink(missing_ok=True)
    spare = iter(free_ports(3))
    pg = PostgresCluster(
        workdir / "postgres", port=ports.get("postgres_port") or next(spare), durable=args.durable
    )
    kafka = KafkaBroker(
        workdir / "kafka",
        partitions=args.partitions,
        port=ports.get("kafka_port") or next(spare),
        controller_port=ports.get("kafka_controller_port") or next(spare),
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        pg.start()
        kafka.start()
        info: dict[str, Any] = {
            "kafka": kafka.bootstrap,
            "kafka_version": kafka.version,
            "postgres_admin_url": pg.admin_url,
            "kafka_port": kafka.port,
            "kafka_controller_port": kafka.controller_port,
            "postgres_port": pg.port,
            "kafka_log": str(kafka.log_path),
            "postgres_log": str(pg.log_path),
        }
        memo.write_text(json.dumps({k: info[k] for k in _PORT_KEYS}) + "\n", encoding="utf-8")
        state.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a script polling for the file never reads half of it.
        partial = state.with_suffix(".partial")
        partial.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        partial.replace(state)
        print(json.dumps(info), flush=True)
        while not stop.wait(1.0):
            # Exit rather than pretend: a stack whose broker died must not look healthy.
            if not kafka.running or not pg.running:
                which = "Kafka" if not kafka.running else "PostgreSQL"
                print(f"localinfra: {which} stopped unexpectedly; shutting down", file=sys.stderr)
                code = 1
                break
    finally:
        state.unlink(missing_ok=True)
        kafka.stop()
        pg.stop()
    return code


def _jars(args: argparse.Namespace) -> int:
    libs = ensure_kafka_jars(args.cache.resolve())
    print(json.dumps({"libs": str(libs), "kafka_version": kafka_version(libs)}))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run one sub-command; InfraError becomes a one-line message, exit 2."""
    parser = argparse.ArgumentParser(prog="python -m localinfra", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run Kafka + PostgreSQL in the foreground until SIGINT/SIGTERM")
    up.add_argument("--state", type=Path, default=RUN_DIR / "infra.json", help="JSON file to write")
    up.add_argument("--workdir", type=Path, default=RUN_DIR, help="persistent data directory")
    up.add_argument("--partitions", type=int, default=1, help="default partitions per topic")
    up.add_argument("--durable", action="store_true", help="keep fsync on (benchmarks)")
    up.set_defaults(func=_up)
    jars = sub.add_parser("jars", help="download the Kafka jars into the cache (CI warm-up)")
    jars.add_argument("--cache", type=Path, default=DEFAULT_LIBS, help="jar cache directory")
    jars.set_defaults(func=_jars)
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except InfraError as exc:
        print(f"localinfra: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
