"""Count what the flights job writes, from the end offsets of its output topics."""

import logging

from confluent_kafka import Consumer, KafkaException, TopicPartition

from core.errors import BrokerError
from jobs.settings import JobSettings

logger = logging.getLogger(__name__)

TIMEOUT_S = 10.0


def end_offsets(bootstrap_servers: str, topic: str, timeout_s: float = TIMEOUT_S) -> int:
    """Return the sum of the end offsets of every partition of `topic`."""
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": "rtpath-monitor"})
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s)
        total = 0
        for partition in metadata.topics[topic].partitions:
            _, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout_s
            )
            total += high
        return total
    except KafkaException as exc:
        raise BrokerError(f"cannot read the end offsets of {topic}: {exc}") from exc
    finally:
        consumer.close()


class OutputCounter:
    """Messages written to each output topic since the counter was created."""

    def __init__(self, settings: JobSettings) -> None:
        self.settings = settings
        self.topics = {
            "enriched": settings.enriched_topic,
            "window rows": settings.windows_topic,
            "late events": settings.late_topic,
            "dead letters": settings.dead_letter_topic,
        }
        self._start = self._offsets()

    def _offsets(self) -> dict[str, int]:
        return {
            label: end_offsets(self.settings.bootstrap_servers, topic)
            for label, topic in self.topics.items()
        }

    def counts(self) -> dict[str, int]:
        now = self._offsets()
        return {label: now[label] - self._start[label] for label in self.topics}

    def summary(self) -> str:
        return ", ".join(f"{count} {label}" for label, count in self.counts().items())
