"""The server.properties of a single-node KRaft broker for tests (kafka-local.md §3)."""

from pathlib import Path

from localinfra.ports import LOOPBACK


def server_properties(*, data_dir: Path, port: int, controller_port: int, partitions: int) -> str:
    """Render server.properties for one combined broker+controller on 127.0.0.1."""
    lines = [
        "process.roles=broker,controller",
        "node.id=1",
        # Dynamic quorum (KIP-853): pairs with `StorageTool format --standalone`.
        f"controller.quorum.bootstrap.servers={LOOPBACK}:{controller_port}",
        # 127.0.0.1 rather than localhost, so nothing resolves to ::1.
        f"listeners=PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        f"advertised.listeners=PLAINTEXT://{LOOPBACK}:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={data_dir}",
        f"num.partitions={partitions}",
        # The defaults (3, min ISR 2) make groups and idempotent producers fail on one node.
        "default.replication.factor=1",
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        # 50 partitions each would make the first group join / transaction slow.
        "offsets.topic.num.partitions=1",
        "transaction.state.log.num.partitions=1",
        # The default 3 s delay would be added to every group's first join.
        "group.initial.rebalance.delay.ms=0",
        # 4.x waits 5 ms to batch coordinator appends, so every offset commit cost ~6 ms (bench/bus.py).
        "group.coordinator.append.linger.ms=0",
        "auto.create.topics.enable=true",
        # After a kill (fault tests) the restarted broker is refused re-registration until the
        # dead incarnation's session expires: 9 s by default. 3 s still tolerates a long pause.
        "broker.heartbeat.interval.ms=500",
        "broker.session.timeout.ms=3000",
        # The default 128 MiB is allocated at start-up and does not fit a 512 MiB heap.
        "log.cleaner.dedupe.buffer.size=4194304",
        "num.network.threads=2",
        "num.io.threads=2",
        "num.recovery.threads.per.data.dir=1",
    ]
    return "\n".join(lines) + "\n"
