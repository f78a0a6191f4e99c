"""Fixtures of the producer tests: topic pairs, small input files and a topic reader."""

import io
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from confluent_kafka import Consumer, Message, TopicPartition
from confluent_kafka.admin import AdminClient
from fastavro import schemaless_reader

from core.schemas import parsed_schema
from core.settings import load_settings
from core.topics import dead_letter_topic
from producers.settings import FlightProducerSettings
from stack.topics import TopicSpec, ensure_topics

REAL_FLIGHTS = "flights-3m.parquet"


def read_topic(bootstrap: str, topic: str, timeout_s: float = 60.0) -> list[Message]:
    """Return every message of `topic`, from its first offset to its end, in offset order."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"test-{uuid.uuid4().hex}",
        "enable.auto.commit": False,
    })  # fmt: skip
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        ends = {}
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), 30)
            if high > low:
                ends[partition] = high
        consumer.assign([TopicPartition(topic, p, 0) for p in ends])
        messages: list[Message] = []
        deadline = time.monotonic() + timeout_s
        while ends and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            messages.append(message)
            offset = message.offset()
            assert offset is not None
            if offset + 1 >= ends.get(message.partition(), 0):
                ends.pop(message.partition(), None)
        assert not ends, f"reading {topic} timed out; partitions left: {ends}"
    finally:
        consumer.close()
    return sorted(messages, key=lambda m: (m.partition(), m.offset()))


def decode_flight(value: bytes) -> dict[str, Any]:
    record = schemaless_reader(io.BytesIO(value), parsed_schema("flight"), None)
    assert isinstance(record, dict)
    return record


def headers_of(message: Message) -> dict[str, str]:
    return {name: (value or b"").decode() for name, value in message.headers() or []}


@pytest.fixture(scope="session")
def real_flights(artifact_cache: Path) -> Path:
    from stack import artifacts

    artifacts.require(artifact_cache, "data")
    return artifact_cache / "data" / REAL_FLIGHTS


@pytest.fixture
def flight_topics(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> Iterator[Callable[..., str]]:
    """Create a flights topic and its dead-letter topic; return the flights topic name."""
    dead_letter_topics: list[str] = []

    def make(partitions: int = 3, config: dict[str, str] | None = None) -> str:
        topic = make_topic("flights", partitions, config)
        dead_letter_topics.append(dead_letter_topic(topic))
        ensure_topics(kafka_bootstrap, [TopicSpec(dead_letter_topics[-1], 1)])
        return topic

    yield make
    if dead_letter_topics:
        admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
        for future in admin.delete_topics(dead_letter_topics, operation_timeout=30).values():
            future.result()


@pytest.fixture
def flight_settings(
    kafka_bootstrap: str, artifact_cache: Path
) -> Callable[..., FlightProducerSettings]:
    def make(**overrides: Any) -> FlightProducerSettings:
        values: dict[str, Any] = {
            "kafka_bootstrap": kafka_bootstrap,
            "cache_dir": artifact_cache,
            "progress_interval_s": 1.0,
            "flush_timeout_s": 30.0,
        }
        values.update(overrides)
        return load_settings(FlightProducerSettings, **values)

    return make


def write_parquet(path: Path, rows: dict[str, list[Any]], schema: pa.Schema | None = None) -> Path:
    pq.write_table(pa.table(rows, schema=schema), path)
    return path


FLIGHT_SCHEMA = pa.schema([
    ("date", pa.timestamp("us")),
    ("delay", pa.int64()),
    ("distance", pa.int64()),
    ("origin", pa.large_string()),
    ("destination", pa.large_string()),
])  # fmt: skip
