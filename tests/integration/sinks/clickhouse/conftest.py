"""Fixtures of the ClickHouse sink tests: known input rows, sink runs and chDB reads."""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client
from confluent_kafka import Producer

from sinks.clickhouse.settings import ClickHouseSinkSettings
from tests.conftest import REPO_ROOT

BASE_EVENT_MS = 1_700_000_000_123  # 2023-11-14T22:13:20.123Z


def flight_row(i: int, **overrides: Any) -> dict[str, Any]:
    """Return flight `i` of a known input as Flink writes it, with every field set."""
    event_ms = BASE_EVENT_MS + i * 3_001
    millis = i % 1000
    row: dict[str, Any] = {
        "event_id": f"ev-{i:06d}",
        "departure": f"2001-01-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{i % 7:02d}.{millis:03d}",
        "origin": ("ORD", "DFW", "ATL")[i % 3],
        "destination": ("SFO", "LAX", "SEA", "DEN")[i % 4],
        "delay_minutes": (i % 50) - 10,
        "distance_miles": 100 + i,
        "origin_city": ("Chicago", "Dallas", "Atlanta")[i % 3],
        "origin_state": ("IL", "TX", "GA")[i % 3],
        "origin_latitude": 41.9786,
        "origin_longitude": -87.9048,
        "destination_city": "San Francisco",
        "destination_state": "CA",
        "destination_latitude": 37.619,
        "destination_longitude": -122.3748,
        "great_circle_miles": 1846.25,
        "event_time": event_ms,
        "produced_at": event_ms * 1000 + 456,
        "enriched_at": event_ms * 1000 + 20_789,
        "is_synthetic": i % 5 == 0,
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
class SinkSetup:
    """Topics, data folder and database of one test's sink."""

    bootstrap: str
    flights_topic: str
    windows_topic: str
    data_dir: Path
    database: str

    def settings(self, **overrides: Any) -> ClickHouseSinkSettings:
        values: dict[str, Any] = {
            "data_dir": self.data_dir,
            "kafka_bootstrap": self.bootstrap,
            "clickhouse_url": None,
            "clickhouse_database": self.database,
            "clickhouse_flights_topic": self.flights_topic,
            "clickhouse_windows_topic": self.windows_topic,
            "clickhouse_group_id": f"test-{uuid.uuid4().hex[:8]}",
            "clickhouse_stop_at_end": True,
        }
        values.update(overrides)
        return ClickHouseSinkSettings(**values)

    def command(self, *extra: str) -> list[str]:
        """Return the command line of the sink as a separate process."""
        return [
            sys.executable, "-m", "rtpath", "--data-dir", str(self.data_dir),
            "--kafka-bootstrap", self.bootstrap, "--log-level", "INFO",
            "sink", "clickhouse", "--database", self.database,
            "--flights-topic", self.flights_topic, "--windows-topic", self.windows_topic,
            "--group-id", "test-sink", *extra,
        ]  # fmt: skip

    def run_process(
        self, *extra: str, env: dict[str, str] | None = None, timeout_s: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run the sink as a separate process until it exits; fail the test if it fails."""
        result = subprocess.run(
            self.command(*extra), cwd=REPO_ROOT, env={**os.environ, **(env or {})},
            capture_output=True, text=True, timeout=timeout_s, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-4000:]
        return result


@pytest.fixture
def sink_setup(kafka_bootstrap: str, make_topic, tmp_path: Path) -> SinkSetup:
    return SinkSetup(
        bootstrap=kafka_bootstrap,
        flights_topic=make_topic("flights_enriched", partitions=3),
        windows_topic=make_topic("delays", partitions=2),
        data_dir=tmp_path / "data",
        database=f"test_{uuid.uuid4().hex[:8]}",
    )


@pytest.fixture
def open_store() -> Iterator[Callable[[SinkSetup], Client]]:
    """Open chDB on a setup's data folder in this process; closed after the test.

    chDB lets one process at a time open a folder, so call it only after the sink stopped.
    """
    clients: list[Client] = []

    def open_(setup: SinkSetup) -> Client:
        client = clickhouse_connect.get_client(
            dsn=f"chdb://{(setup.data_dir / 'clickhouse').resolve()}", database=setup.database
        )
        clients.append(client)
        return client

    yield open_
    for client in clients:
        client.close()
