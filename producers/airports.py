"""Load airports into the compacted `airports` topic, and publish single changes.

The topic keys each record by IATA code and compaction keeps the latest per key. So the
Flink jobs apply an update to the events that arrive after it, without a restart.
"""

import io
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from fastavro import schemaless_reader, schemaless_writer

from core.errors import ConfigError
from core.schemas import parsed_schema
from producers.clock import epoch_ms
from producers.settings import AirportProducerSettings, client_config
from producers.topics import ProducerError, max_message_bytes

logger = logging.getLogger(__name__)

CSV_COLUMNS = ("iata", "name", "city", "state", "country", "latitude", "longitude")
TEXT_FIELDS = ("name", "city", "state", "country")
NULLABLE_FIELDS = ("city", "state", "country")
COORDINATE_RANGES = {"latitude": (-90.0, 90.0), "longitude": (-180.0, 180.0)}
MAX_LOGGED_REJECTIONS = 10
READ_TIMEOUT_S = 30.0


@dataclass
class AirportSummary:
    """Outcome of loading airports: records sent, delivered, failed and rows rejected."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    rejected: int = 0
    unflushed: int = 0

    @property
    def lost(self) -> int:
        return self.failed + self.unflushed


def encode_airport(record: dict[str, Any]) -> bytes:
    """Encode one airport record as schemaless Avro binary."""
    out = io.BytesIO()
    schemaless_writer(out, parsed_schema("airport"), record)
    return out.getvalue()


def decode_airport(value: bytes) -> dict[str, Any]:
    record = schemaless_reader(io.BytesIO(value), parsed_schema("airport"), None)
    assert isinstance(record, dict)
    return record


def _coordinate(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} {text!r} is not a number") from None
    low, high = COORDINATE_RANGES[name]
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(f"{name} {text!r} is outside {low:g} to {high:g}")
    return value


def airport_record(row: dict[str, str | None], updated_at_ms: int) -> dict[str, Any]:
    """Check one CSV row of text values and return it as an airport record.

    Raises `ConfigError` naming the bad field: a missing code or name, or a coordinate
    that is not a number or out of range. Empty city, state and country become null.
    """
    code = (row.get("iata") or "").strip()
    if not code:
        raise ConfigError("iata code is missing")
    record: dict[str, Any] = {"code": code}
    for name in TEXT_FIELDS:
        value = row.get(name) or None
        if value is None and name not in NULLABLE_FIELDS:
            raise ConfigError(f"{name} is missing")
        record[name] = value
    for name in COORDINATE_RANGES:
        text = row.get(name)
        if not text:
            raise ConfigError(f"{name} is missing")
        record[name] = _coordinate(name, text)
    record["updated_at"] = updated_at_ms
    return record


def read_airports(path: Path) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """Read the airports CSV; return the valid records and (row number, error) of the rest."""
    if not path.is_file():
        raise ConfigError(
            f"airports file {path} not found; pass --input or run `rtpath stack fetch`"
        )
    try:
        table = pa_csv.read_csv(
            path,
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in CSV_COLUMNS},
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise ConfigError(f"cannot read {path} as CSV: {exc}") from exc
    absent = [name for name in CSV_COLUMNS if name not in table.column_names]
    if absent:
        raise ConfigError(
            f"{path} has no column {', '.join(absent)}; it needs {', '.join(CSV_COLUMNS)}"
        )
    now_ms = time.time_ns() // 1_000_000
    records, rejected = [], []
    for row_number, row in enumerate(table.select(list(CSV_COLUMNS)).to_pylist()):
        try:
            records.append(airport_record(row, now_ms))
        except ConfigError as exc:
            rejected.append((row_number, str(exc)))
    return records, rejected


class AirportPublisher:
    """A producer for airport records that counts every delivery outcome."""

    def __init__(self, settings: AirportProducerSettings) -> None:
        self.settings = settings
        max_message_bytes(settings.bootstrap_servers, settings.topic)
        self.producer = Producer(client_config(settings))
        self.summary = AirportSummary()

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.summary.delivered += 1
        else:
            self.summary.failed += 1
            logger.error("airport %s not delivered: %s", message.key(), error)

    def publish(self, record: dict[str, Any]) -> None:
        value = encode_airport(record)
        while True:
            try:
                self.producer.produce(
                    self.settings.topic, value, record["code"], on_delivery=self._on_delivery
                )
                break
            except BufferError:
                self.producer.poll(0.1)
        self.summary.sent += 1
        self.producer.poll(0)

    def close(self) -> AirportSummary:
        self.summary.unflushed = self.producer.flush(self.settings.flush_timeout_s)
        return self.summary


def load_airports(settings: AirportProducerSettings) -> AirportSummary:
    """Publish every valid airport of the CSV; invalid rows are logged and counted."""
    path = settings.input_path
    logger.info(
        "loading airports from %s into %s on %s",
        path, settings.topic, settings.bootstrap_servers,
    )  # fmt: skip
    records, rejected = read_airports(path)
    for row_number, error in rejected[:MAX_LOGGED_REJECTIONS]:
        logger.warning("airports row %d rejected: %s", row_number, error)
    publisher = AirportPublisher(settings)
    for record in records:
        publisher.publish(record)
    summary = publisher.close()
    summary.rejected = len(rejected)
    logger.info(
        "stopped: airports sent %d, delivered %d, failed %d, not flushed %d, rejected %d",
        summary.sent, summary.delivered, summary.failed, summary.unflushed, summary.rejected,
    )  # fmt: skip
    return summary


def latest_airports(bootstrap_servers: str, topic: str) -> dict[str, dict[str, Any]]:
    """Read the airports topic from the start to its end; return the latest record per code."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap_servers,
        "group.id": "rtpath-airports-reader",
        "enable.auto.commit": False,
    })  # fmt: skip
    latest: dict[str, dict[str, Any]] = {}
    try:
        metadata = consumer.list_topics(topic, timeout=READ_TIMEOUT_S).topics[topic]
        partitions = []
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=READ_TIMEOUT_S
            )
            if high > low:
                partitions.append((partition, low, high))
        consumer.assign([TopicPartition(topic, p, low) for p, low, _ in partitions])
        remaining = {p: high for p, _, high in partitions}
        deadline = time.monotonic() + READ_TIMEOUT_S
        while remaining and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error() is not None:
                raise ProducerError(f"reading {topic} failed: {message.error()}")
            key = (message.key() or b"").decode()
            value = message.value()
            if value is None:
                latest.pop(key, None)  # a tombstone deletes the airport
            else:
                latest[key] = decode_airport(value)
            offset = message.offset()
            if offset is not None and offset + 1 >= remaining.get(message.partition(), 0):
                remaining.pop(message.partition(), None)
        if remaining:
            raise ProducerError(f"reading {topic} to its end timed out after {READ_TIMEOUT_S} s")
    finally:
        consumer.close()
    return latest


def parse_changes(pairs: list[str]) -> dict[str, str]:
    """Parse `field=value` arguments; raise `ConfigError` on an unknown field or no `=`."""
    changes = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator:
            raise ConfigError(f"change {pair!r} has no '='; write it as field=value")
        if name not in TEXT_FIELDS + tuple(COORDINATE_RANGES):
            raise ConfigError(
                f"unknown airport field {name!r}; changeable fields: "
                f"{', '.join(TEXT_FIELDS + tuple(COORDINATE_RANGES))}"
            )
        changes[name] = value
    if not changes:
        raise ConfigError("no change given; add at least one field=value")
    return changes


def update_airport(
    settings: AirportProducerSettings,
    code: str,
    changes: dict[str, str],
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """Publish airport `code` with `changes` applied; return the published record.

    The base is the latest record of `code` on the topic, or its row of the CSV when the
    topic has none. An empty value sets city, state or country to null. `updated_at`
    must be timezone-aware; it defaults to now.
    """
    stamp_ms = epoch_ms(updated_at) if updated_at is not None else time.time_ns() // 1_000_000
    base = latest_airports(settings.bootstrap_servers, settings.topic).get(code)
    if base is None:
        records, _ = read_airports(settings.input_path)
        base = next((r for r in records if r["code"] == code), None)
    if base is None:
        raise ConfigError(
            f"airport {code!r} not found on topic {settings.topic} nor in "
            f"{settings.input_path}; check the IATA code"
        )
    row: dict[str, str | None] = {"iata": code}
    for name in TEXT_FIELDS:
        row[name] = base[name]
    for name in COORDINATE_RANGES:
        row[name] = repr(base[name])
    row.update(changes)
    try:
        record = airport_record(row, stamp_ms)
    except ConfigError as exc:
        raise ConfigError(f"invalid change of airport {code!r}: {exc}") from exc
    publisher = AirportPublisher(settings)
    publisher.publish(record)
    summary = publisher.close()
    if summary.lost:
        raise ProducerError(f"the update of airport {code!r} was not delivered")
    logger.info("published airport %s: %s", code, record)
    return record
