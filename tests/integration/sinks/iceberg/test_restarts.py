"""The Iceberg sink as a child process: SIGKILL and restart, and a process time zone not UTC."""

import logging
import random
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from pyiceberg.exceptions import NoSuchTableError

from sinks.iceberg.catalog import open_catalog
from sinks.iceberg.offsets import stored_offsets
from sinks.iceberg.settings import IcebergSettings
from tests.integration.sinks.iceberg.conftest import (
    SinkTopics,
    encode,
    flight_row,
    produce,
    read_rows,
)

pytestmark = pytest.mark.integration

logger = logging.getLogger(__name__)

ROWS = 8_000
KILLS = 4
LOS_ANGELES = {"TZ": "America/Los_Angeles"}


def committed_rows(settings: IcebergSettings) -> int:
    """Return how many messages of the flights topic the table has stored offsets past."""
    try:
        table = open_catalog(settings).load_table((settings.iceberg_namespace, "flights_enriched"))
    except NoSuchTableError:
        return 0
    return sum(stored_offsets(table).get(settings.iceberg_flights_topic, {}).values())


def wait_for_progress(
    settings: IcebergSettings, process: subprocess.Popen[bytes], above: int, timeout_s: float
) -> int:
    """Wait until the table stores offsets past `above` messages; return the new count."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"sink exited early with code {process.returncode}"
        count = committed_rows(settings)
        if count > above:
            return count
        time.sleep(0.05)
    raise AssertionError(f"sink stored nothing past {above} messages within {timeout_s} s")


def test_sigkill_restarts_store_each_row_once(
    kafka_bootstrap: str,
    sink_topics: SinkTopics,
    make_settings: Callable[..., IcebergSettings],
    sink_command: Callable[..., subprocess.Popen[bytes]],
) -> None:
    rows = [flight_row(i) for i in range(ROWS)]
    settings = make_settings()
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    logger.info("kill points drawn with seed %d", seed)
    flags = ("--tables", "flights_enriched", "--commit-rows", "150", "--commit-interval", "0.2")

    # Half the input waits at the start; the other half arrives while the sink is killed.
    half = ROWS // 2
    produce(kafka_bootstrap, sink_topics.flights, [(i % 3, encode(r)) for i, r in
                                                   enumerate(rows[:half])])  # fmt: skip
    done = 0
    for kill in range(KILLS):
        process = sink_command(*flags, env=LOS_ANGELES)
        done = wait_for_progress(settings, process, done, timeout_s=60)
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
        if kill == 1:
            produce(kafka_bootstrap, sink_topics.flights,
                    [(i % 3, encode(r)) for i, r in enumerate(rows[half:], half)])  # fmt: skip

    final = sink_command(*flags, "--stop-at-end", env=LOS_ANGELES)
    assert final.wait(120) == 0

    stored = read_rows(settings, "flights_enriched")
    event_ids = [row["event_id"] for row in stored]
    assert len(stored) == ROWS, f"seed {seed}"
    assert len(set(event_ids)) == ROWS, f"seed {seed}"
    assert set(event_ids) == {row["event_id"] for row in rows}
    assert committed_rows(settings) == ROWS


def test_datetimes_exact_in_los_angeles_tz(
    kafka_bootstrap: str,
    sink_topics: SinkTopics,
    make_settings: Callable[..., IcebergSettings],
    sink_command: Callable[..., subprocess.Popen[bytes]],
) -> None:
    # 2023-03-12 10:30 UTC is 03:30 PDT, an hour after Los Angeles moved its clocks forward.
    # The departure, 02:30, is a local time that did not exist in Los Angeles that day.
    event_ms = 1_678_617_000_250
    row = flight_row(
        0, event_time=event_ms, produced_at=event_ms * 1000 + 1, enriched_at=event_ms * 1000 + 2,
        departure="2023-03-12 02:30:00.125",
    )  # fmt: skip
    produce(kafka_bootstrap, sink_topics.flights, [(0, encode(row))])
    process = sink_command("--tables", "flights_enriched", "--stop-at-end", env=LOS_ANGELES)
    assert process.wait(60) == 0

    (stored,) = read_rows(make_settings(), "flights_enriched")
    assert stored["event_time"] == datetime(2023, 3, 12, 10, 30, 0, 250_000, tzinfo=UTC)
    assert stored["produced_at"] == datetime(2023, 3, 12, 10, 30, 0, 250_001, tzinfo=UTC)
    assert stored["enriched_at"] == datetime(2023, 3, 12, 10, 30, 0, 250_002, tzinfo=UTC)
    assert stored["departure"] == datetime(2023, 3, 12, 2, 30, 0, 125_000)
    assert stored["departure"].tzinfo is None
