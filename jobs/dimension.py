"""The airport dimension: an in-memory dictionary kept current from the compacted topic.

`AirportDimension.load` reads the `airports` topic from the beginning up to the end offsets
it finds, so the dictionary contains every airport before the first flight. After that,
`refresh` applies the records that the consumer has fetched since, at most once per
`refresh_interval_s`, from the thread that enriches flights. librdkafka fetches in its own
threads, so an update reaches the dictionary within about `fetch.wait.max.ms` plus the
refresh interval of being written, and applies to every flight enriched after that.
"""

import io
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, cast

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from fastavro import schemaless_reader

from core.errors import BrokerError
from core.schemas import parsed_schema

logger = logging.getLogger(__name__)

LOAD_TIMEOUT_S = 60.0
REFRESH_INTERVAL_S = 0.01
UNKNOWN_LOG_INTERVAL_S = 30.0


@dataclass(frozen=True, slots=True)
class Airport:
    """The attributes a flight gets from its origin or destination airport."""

    city: str | None
    state: str | None
    latitude: float
    longitude: float


def decode_airport(value: bytes) -> tuple[str, Airport]:
    """Decode one Avro `airport` record; return its code and attributes."""
    record = cast(
        dict[str, Any], schemaless_reader(io.BytesIO(value), parsed_schema("airport"), None)
    )
    airport = Airport(record["city"], record["state"], record["latitude"], record["longitude"])
    return record["code"], airport


class AirportDimension:
    """Airports by IATA code, read from a compacted Kafka topic (key = code)."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        refresh_interval_s: float = REFRESH_INTERVAL_S,
    ) -> None:
        self.topic = topic
        self.airports: dict[str, Airport] = {}
        self.unknown_lookups = 0
        self.invalid_records = 0
        self._refresh_interval_s = refresh_interval_s
        self._next_refresh = 0.0
        self._next_unknown_log = 0.0
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                # No offsets are committed: every start reads the whole compacted topic.
                "group.id": f"rtpath-airports-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                "fetch.wait.max.ms": 10,
            }
        )

    def load(self, timeout_s: float = LOAD_TIMEOUT_S) -> None:
        """Read the topic from the beginning to its current end offsets."""
        started = time.monotonic()
        try:
            metadata = self._consumer.list_topics(self.topic, timeout=timeout_s)
        except KafkaException as exc:
            raise BrokerError(f"cannot read metadata of topic {self.topic}: {exc}") from exc
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None:
            raise BrokerError(
                f"airport topic {self.topic} does not exist; create it with `rtpath stack topics`"
            )
        partitions = [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in topic.partitions]
        ends = {}
        for partition in partitions:
            _, high = self._consumer.get_watermark_offsets(partition, timeout=timeout_s)
            ends[partition.partition] = high
        self._consumer.assign(partitions)

        pending = {p: end for p, end in ends.items() if end > 0}
        deadline = started + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"reading airport topic {self.topic} did not reach its end offsets "
                    f"{ends} within {timeout_s:.0f} s"
                )
            for message in self._consumer.consume(num_messages=1000, timeout=0.2):
                self._apply(message)
                number, offset = message.partition(), message.offset()
                if number is None or offset is None:
                    continue
                end = pending.get(number)
                if end is not None and offset + 1 >= end:
                    del pending[number]
        logger.info(
            "loaded %d airports from %s in %.2f s",
            len(self.airports), self.topic, time.monotonic() - started,
        )  # fmt: skip

    def refresh(self) -> None:
        """Apply the records fetched since the last refresh, at most once per interval."""
        now = time.monotonic()
        if now < self._next_refresh:
            return
        self._next_refresh = now + self._refresh_interval_s
        for message in self._consumer.consume(num_messages=1000, timeout=0):
            self._apply(message)

    def lookup(self, code: str | None) -> Airport | None:
        """Return the airport of `code`, or None (counted) when the dimension lacks it."""
        airport = self.airports.get(code) if code is not None else None
        if airport is None:
            self._count_unknown(code)
        return airport

    def close(self) -> None:
        self._consumer.close()

    def _apply(self, message: Any) -> None:
        if message.error() is not None:
            logger.warning("airport consumer error on %s: %s", self.topic, message.error())
            return
        key, value = message.key(), message.value()
        if value is None:
            # A tombstone deletes the airport; the key is the UTF-8 code.
            if key is not None:
                self.airports.pop(key.decode("utf-8", "replace"), None)
            return
        try:
            code, airport = decode_airport(value)
        except Exception as exc:  # any undecodable record is skipped and counted
            self.invalid_records += 1
            logger.warning(
                "skipped undecodable airport record at %s[%d]@%d (%d so far): %s",
                self.topic, message.partition(), message.offset(), self.invalid_records, exc,
            )  # fmt: skip
            return
        self.airports[code] = airport

    def _count_unknown(self, code: str | None) -> None:
        self.unknown_lookups += 1
        now = time.monotonic()
        if now >= self._next_unknown_log:
            self._next_unknown_log = now + UNKNOWN_LOG_INTERVAL_S
            logger.warning(
                "%d lookups of airport codes missing from %s so far (latest %r)",
                self.unknown_lookups, self.topic, code,
            )  # fmt: skip
