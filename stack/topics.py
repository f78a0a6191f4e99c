"""Create the topics of the path. Every command that needs topics calls `ensure_topics`."""

import logging
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from core import topics
from core.errors import BrokerError

logger = logging.getLogger(__name__)

ADMIN_TIMEOUT_S = 30.0
END_OFFSETS_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TopicSpec:
    """A topic with its partition count and topic-level configs."""

    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def design_topics(partitions: int) -> list[TopicSpec]:
    """Return the topics of the path; `airports` is compacted because it is a dimension."""
    compacted = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}
    names = [
        topics.FLIGHTS,
        topics.FLIGHTS_ENRICHED,
        topics.DELAYS_BY_AIRPORT_1M,
        topics.FLIGHTS_LATE,
        topics.dead_letter_topic(topics.FLIGHTS),
        topics.dead_letter_topic(topics.FLIGHTS_ENRICHED),
        topics.dead_letter_topic(topics.DELAYS_BY_AIRPORT_1M),
    ]
    specs = [TopicSpec(name, partitions) for name in names]
    specs.append(TopicSpec(topics.AIRPORTS, 1, compacted))
    return specs


def ensure_topics(bootstrap_servers: str, specs: list[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; return the names created.

    Existing topics are left as they are, even when their partitions differ from `specs`.
    """
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    try:
        existing = set(admin.list_topics(timeout=ADMIN_TIMEOUT_S).topics)
    except KafkaException as exc:
        raise BrokerError(f"cannot list topics on {bootstrap_servers}: {exc}") from exc

    new = [
        NewTopic(s.name, num_partitions=s.partitions, replication_factor=1, config=s.config)
        for s in specs
        if s.name not in existing
    ]
    if not new:
        return []
    created = []
    for name, future in admin.create_topics(new, request_timeout=ADMIN_TIMEOUT_S).items():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].name() == "TOPIC_ALREADY_EXISTS":
                continue
            raise BrokerError(f"cannot create topic {name}: {exc}") from exc
        created.append(name)
    logger.info("created topics: %s", ", ".join(sorted(created)))
    return created


def list_topics(bootstrap_servers: str, timeout_s: float = 10.0) -> dict[str, int]:
    """Return each non-internal topic with its partition count."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    try:
        metadata = admin.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        raise BrokerError(f"cannot list topics on {bootstrap_servers}: {exc}") from exc
    return {
        name: len(t.partitions)
        for name, t in sorted(metadata.topics.items())
        if not name.startswith("__")
    }


def end_offsets(
    bootstrap_servers: str, topic: str, timeout_s: float = END_OFFSETS_TIMEOUT_S
) -> int:
    """Return the sum of the end offsets of every partition of `topic` (0 when it is missing)."""
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": "rtpath-end-offsets"})
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s)
        partitions = metadata.topics[topic].partitions if topic in metadata.topics else {}
        total = 0
        for partition in partitions:
            _, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout_s
            )
            total += max(high, 0)
        return total
    except KafkaException as exc:
        raise BrokerError(f"cannot read the end offsets of {topic}: {exc}") from exc
    finally:
        consumer.close()
