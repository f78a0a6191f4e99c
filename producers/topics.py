"""Check the topics a producer writes to before it starts."""

from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    ResourceType,
)

from core.errors import RtpathError

ADMIN_TIMEOUT_S = 15.0


class ProducerError(RtpathError):
    """A producer cannot start or cannot deliver."""


def max_message_bytes(bootstrap_servers: str, topic: str) -> int:
    """Return the topic's `max.message.bytes`; raise `ProducerError` when the topic is missing."""
    # log_level 4 keeps librdkafka's notice about purged background events off stderr.
    admin = AdminClient({"bootstrap.servers": bootstrap_servers, "log_level": 4})
    try:
        metadata = admin.list_topics(timeout=ADMIN_TIMEOUT_S)
    except KafkaException as exc:
        raise ProducerError(
            f"cannot reach Kafka at {bootstrap_servers}: {exc}; start the local broker with "
            "`rtpath stack up` or set --kafka-bootstrap"
        ) from exc
    if topic not in metadata.topics:
        raise ProducerError(
            f"topic {topic!r} not found on {bootstrap_servers}; create the topics of the path "
            "with `rtpath stack topics`, or create it yourself"
        )
    resource = ConfigResource(ResourceType.TOPIC, topic)
    try:
        configs = admin.describe_configs([resource])[resource].result(timeout=ADMIN_TIMEOUT_S)
    except KafkaException as exc:
        raise ProducerError(f"cannot read the configuration of topic {topic!r}: {exc}") from exc
    return int(configs["max.message.bytes"].value)
