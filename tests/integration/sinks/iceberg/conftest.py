"""Fixtures of the Iceberg sink tests: known input rows, topics, settings and table reads."""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from sinks.iceberg.catalog import open_catalog
from sinks.iceberg.settings import IcebergSettings, TableName
from tests.conftest import REPO_ROOT

BASE_EVENT_MS = 1_700_000_000_123  # 2023-11-14T22:13:20.123Z


def flight_row(i: int, **overrides: Any) -> dict[str, Any]:
    """Return flight `i` of a known input as Flink writes it, with every field set."""
    row: dict[str, Any] = {
        "event_id": f"ev-{i:06d}",
        "departure": f"2001-01-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00",
        "origin": ("ORD", "DFW", "ATL")[i % 3],
        "destination": ("SFO", "LAX", "SEA", "DEN")[i % 4],
        "delay_minutes": (i % 50) - 10,
        "distance_miles": 100 + i,
        "origin_city": "Chicago",
        "origin_state": "IL",
        "origin_latitude": 41.97,
        "origin_longitude": -87.9,
        "destination_city": "San Francisco",
        "destination_state": "CA",
        "destination_latitude": 37.62,
        "destination_longitude": -122.37,
        "great_circle_miles": 1846.5,
        # Spread over two UTC days so the day partition holds more than one value.
        "event_time": BASE_EVENT_MS + i * 7_000,
        "produced_at": (BASE_EVENT_MS + i * 7_000) * 1000 + 456,
        "enriched_at": (BASE_EVENT_MS + i * 7_000) * 1000 + 20_456,
        "is_synthetic": False,
        "replay_round": i // 1000,
    }
    row.update(overrides)
    return row


def window_row(origin: str, minute: int, **overrides: Any) -> dict[str, Any]:
    """Return the one-minute window `minute` of `origin` as Flink writes it."""
    start = 1_700_000_040_000 + minute * 60_000
    row: dict[str, Any] = {
        "origin": origin,
        "window_start": start,
        "window_end": start + 60_000,
        "flights": 10 + minute,
        "delayed_flights": minute % 3,
        "avg_delay_minutes": -2.5 + minute,
        "max_delay_minutes": minute - 1,
        "max_produced_at": (start + 59_000) * 1000 + 7,
        "emitted_at": (start + 61_000) * 1000 + 9,
    }
    row.update(overrides)
    return row


def encode(row: dict[str, Any]) -> bytes:
    return json.dumps(row, ensure_ascii=False).encode()


def produce(bootstrap: str, topic: str, records: Sequence[tuple[int, bytes]]) -> None:
    """Send (partition, value) pairs in order and wait for every acknowledgement."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    for partition, value in records:
        producer.produce(topic, value=value, partition=partition)
        producer.poll(0)
    assert producer.flush(30) == 0


@dataclass(frozen=True)
class SinkTopics:
    flights: str
    windows: str


@pytest.fixture
def sink_topics(make_topic: Callable[..., str]) -> SinkTopics:
    """A flights topic with three partitions and a windows topic with two, unique per test."""
    return SinkTopics(
        flights=make_topic("flights_enriched", partitions=3),
        windows=make_topic("delays_by_airport_1m", partitions=2),
    )


@pytest.fixture
def make_settings(
    tmp_path: Path, kafka_bootstrap: str, sink_topics: SinkTopics
) -> Callable[..., IcebergSettings]:
    """Build sink settings on this test's data folder and topics; keywords override them."""

    def make(**overrides: Any) -> IcebergSettings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "kafka_bootstrap": kafka_bootstrap,
            "iceberg_flights_topic": sink_topics.flights,
            "iceberg_windows_topic": sink_topics.windows,
            "iceberg_group_id": f"test-iceberg-{uuid.uuid4().hex[:8]}",
            "iceberg_commit_interval_s": 0.2,
            "iceberg_stop_at_end": True,
        }
        values.update(overrides)
        return IcebergSettings(**values)

    return make


def read_rows(settings: IcebergSettings, table: TableName) -> list[dict[str, Any]]:
    """Return every row of `table`, ordered by Kafka partition and offset."""
    catalog = open_catalog(settings)
    rows = catalog.load_table((settings.iceberg_namespace, table)).scan().to_arrow()
    ordered = rows.sort_by([("kafka_partition", "ascending"), ("kafka_offset", "ascending")])
    return ordered.to_pylist()


@pytest.fixture
def sink_command(
    tmp_path: Path, kafka_bootstrap: str, sink_topics: SinkTopics
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `rtpath sink iceberg` as a child process on this test's data folder and topics."""
    started: list[subprocess.Popen[bytes]] = []
    log = (tmp_path / "sink.log").open("ab")

    def start(*flags: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        command = [
            sys.executable, "-m", "rtpath",
            "--data-dir", str(tmp_path / "data"),
            "--kafka-bootstrap", kafka_bootstrap,
            "sink", "iceberg",
            "--flights-topic", sink_topics.flights,
            "--windows-topic", sink_topics.windows,
            "--group-id", f"test-iceberg-{uuid.uuid4().hex[:8]}",
            *flags,
        ]  # fmt: skip
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
    log.close()
