"""Send rejected records to `<topic>.dlq` with the error and their source position in headers.

A dead letter keeps the original key, value and headers, and adds:

- `rtpath.error`: the store's error message, UTF-8, cut to `MAX_ERROR_BYTES`
- `rtpath.sink`: the sink that rejected the record, such as `clickhouse`
- `rtpath.source.topic`, `rtpath.source.partition`, `rtpath.source.offset`: ASCII text
- `rtpath.failed_at`: epoch microseconds UTC, ASCII text

Delivery is at-least-once: a sink that crashes after sending a dead letter but before storing
a later offset of the same partition reads the record again and sends it again.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from confluent_kafka import KafkaError, Message, Producer

from core.errors import RtpathError
from core.topics import dead_letter_topic
from stack.topics import TopicSpec, ensure_topics, list_topics

logger = logging.getLogger(__name__)

HEADER_ERROR = "rtpath.error"
HEADER_SINK = "rtpath.sink"
HEADER_TOPIC = "rtpath.source.topic"
HEADER_PARTITION = "rtpath.source.partition"
HEADER_OFFSET = "rtpath.source.offset"
HEADER_FAILED_AT = "rtpath.failed_at"

MAX_ERROR_BYTES = 16 * 1024


class DeadLetterError(RtpathError):
    """A dead letter could not be delivered, so its record would be lost."""


@dataclass(frozen=True)
class DeadLetter:
    """The rtpath headers of a dead letter, decoded."""

    error: str
    sink: str
    topic: str
    partition: int
    offset: int
    failed_at_us: int

    @classmethod
    def from_message(cls, message: Message) -> "DeadLetter":
        """Decode the headers of a message read from a dead-letter topic."""
        headers = {name: value for name, value in _headers(message) if value is not None}
        try:
            return cls(
                error=_text(headers[HEADER_ERROR]),
                sink=_text(headers[HEADER_SINK]),
                topic=_text(headers[HEADER_TOPIC]),
                partition=int(headers[HEADER_PARTITION]),
                offset=int(headers[HEADER_OFFSET]),
                failed_at_us=int(headers[HEADER_FAILED_AT]),
            )
        except (KeyError, ValueError) as exc:
            raise DeadLetterError(
                f"message at {message.topic()}[{message.partition()}]@{message.offset()} "
                f"is not an rtpath dead letter: header {exc} is missing or invalid"
            ) from exc


def ensure_dead_letter_topics(bootstrap_servers: str, topics: Sequence[str]) -> list[str]:
    """Create `<topic>.dlq` for each source topic that lacks one; return the names created.

    A new dead-letter topic gets the partition count of its source topic.
    """
    existing = list_topics(bootstrap_servers)
    missing = [t for t in topics if t not in existing]
    if missing:
        raise DeadLetterError(
            f"source topic(s) {', '.join(missing)} not found on {bootstrap_servers}; "
            "create them first, for example with `rtpath stack topics`"
        )
    specs = [TopicSpec(dead_letter_topic(t), existing[t]) for t in topics]
    return ensure_topics(bootstrap_servers, specs)


class DeadLetterWriter:
    """Produce dead letters with `acks=all` and idempotence; `flush` raises on any loss."""

    def __init__(
        self,
        bootstrap_servers: str,
        sink: str,
        producer_config: Mapping[str, str | int | float | bool] | None = None,
    ) -> None:
        config: dict[str, str | int | float | bool] = {
            "bootstrap.servers": bootstrap_servers,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
        }
        config.update(producer_config or {})
        self.sink = sink
        self.sent = 0
        self._failures: list[str] = []
        self._producer = Producer(config)

    def send(self, message: Message, error: str) -> None:
        """Queue `message` for its topic's dead-letter topic; call `flush` to wait for delivery."""
        source_topic: str = message.topic()  # type: ignore[assignment]
        headers = _headers(message)
        headers += [
            (HEADER_ERROR, error.encode()[:MAX_ERROR_BYTES]),
            (HEADER_SINK, self.sink.encode()),
            (HEADER_TOPIC, source_topic.encode()),
            (HEADER_PARTITION, str(message.partition()).encode()),
            (HEADER_OFFSET, str(message.offset()).encode()),
            (HEADER_FAILED_AT, str(time.time_ns() // 1000).encode()),
        ]
        self._producer.produce(
            dead_letter_topic(source_topic), key=message.key(), value=message.value(),
            headers=headers, on_delivery=self._on_delivery,
        )  # fmt: skip
        self.sent += 1
        first_line = (error.splitlines() or [""])[0]
        logger.warning(
            "dead letter for %s[%s]@%s: %s",
            source_topic, message.partition(), message.offset(), first_line[:300],
        )  # fmt: skip
        self._producer.poll(0)

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until every queued dead letter is acknowledged; raise if any is not."""
        remaining = self._producer.flush(timeout_s)
        if remaining:
            raise DeadLetterError(
                f"{remaining} dead letter(s) not delivered within {timeout_s:.0f} s; "
                "check that the broker is reachable and the .dlq topics exist"
            )
        if self._failures:
            failures, self._failures = self._failures, []
            raise DeadLetterError(
                f"{len(failures)} dead letter(s) failed: {failures[0]}; "
                "check that the .dlq topics exist and accept the record size"
            )

    def close(self, timeout_s: float = 30.0) -> None:
        self.flush(timeout_s)

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failures.append(f"{message.topic()}: {error}")


Header = tuple[str, str | bytes | None]


def _headers(message: Message) -> list[Header]:
    return cast(list[Header], list(message.headers() or []))


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
