"""The flight producer against a real broker: exact counts, values, ids and times."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from producers.launcher import run_flights
from producers.source import file_tag
from tests.integration.producers.conftest import (
    FLIGHT_SCHEMA,
    decode_flight,
    read_topic,
    write_parquet,
)

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]


def naive_ms(moment: datetime) -> int:
    """Milliseconds of a naive wall-clock time, counted as if it were UTC."""
    return (moment - datetime(1970, 1, 1)) // pa.scalar(1, pa.duration("ms")).as_py()


def test_count_delivers_exactly_n(
    flight_topics: Callable[..., str], flight_settings: Callable[..., object], real_flights: Path
) -> None:
    topic = flight_topics(partitions=3)
    summary = run_flights(flight_settings(topic=topic, count=1000))

    messages = read_topic(summary_bootstrap(flight_settings), topic)
    assert len(messages) == 1000
    assert summary.counters.sent == 1000
    assert summary.counters.delivered == 1000
    assert summary.counters.lost == 0
    records = [decode_flight(m.value()) for m in messages]
    tag = file_tag(real_flights)
    assert {r["event_id"] for r in records} == {f"{tag}-0-{row}" for row in range(1000)}
    for message, record in zip(messages, records, strict=True):
        assert message.key() == record["origin"].encode()


def summary_bootstrap(flight_settings: Callable[..., object]) -> str:
    settings = flight_settings()
    return settings.bootstrap_servers  # type: ignore[attr-defined, no-any-return]


def test_real_first_last_rows_round_trip(
    tmp_path: Path,
    flight_topics: Callable[..., str],
    flight_settings: Callable[..., object],
    real_flights: Path,
) -> None:
    parquet = pq.ParquetFile(real_flights)
    first = parquet.read_row_group(0).slice(0, 3)
    last_group = parquet.read_row_group(parquet.num_row_groups - 1)
    last = last_group.slice(last_group.num_rows - 3)
    made = pa.table(
        {
            "date": [
                datetime(1999, 12, 31, 23, 59, 59, 999999),
                datetime(1969, 12, 31, 23, 59, 59),
            ],
            "delay": [None, -1116],
            "distance": [0, 2_147_483_647],
            "origin": ["ORD", "ΑΘΗ"],
            "destination": ["DFW", "東京"],
        },
        schema=FLIGHT_SCHEMA,
    )
    table = pa.concat_tables([first.cast(FLIGHT_SCHEMA), last.cast(FLIGHT_SCHEMA), made])
    path = tmp_path / "edges.parquet"
    pq.write_table(table, path)
    topic = flight_topics(partitions=1)
    started_ms = time.time_ns() // 1_000_000

    summary = run_flights(flight_settings(topic=topic, input=path))
    finished_ms = time.time_ns() // 1_000_000

    assert summary.counters.delivered == 8
    expected = table.to_pylist()
    records = sorted(
        (decode_flight(m.value()) for m in read_topic(summary_bootstrap(flight_settings), topic)),
        key=lambda r: int(r["event_id"].rsplit("-", 1)[1]),
    )
    assert len(records) == 8
    tag = file_tag(path)
    for row, (record, source) in enumerate(zip(records, expected, strict=True)):
        assert record["event_id"] == f"{tag}-0-{row}"
        assert record["departure"] == source["date"].replace(
            microsecond=source["date"].microsecond // 1000 * 1000
        )
        assert record["origin"] == source["origin"]
        assert record["destination"] == source["destination"]
        assert record["delay_minutes"] == source["delay"]
        assert record["distance_miles"] == source["distance"]
        assert record["is_synthetic"] is False
        assert record["replay_round"] == 0
        assert started_ms <= record["event_time"] <= finished_ms
        assert record["produced_at"] // 1000 == record["event_time"]
    assert expected[0]["date"] == datetime(2001, 1, 1, 0, 1)
    assert expected[5]["origin"] == last.column("origin")[2].as_py()


def test_event_ids_unique_across_loop_and_processes(
    tmp_path: Path, flight_topics: Callable[..., str], flight_settings: Callable[..., object]
) -> None:
    path = write_parquet(
        tmp_path / "ten.parquet",
        {
            "date": [datetime(2001, 1, 1, 0, i) for i in range(10)],
            "delay": list(range(10)),
            "distance": [100 + i for i in range(10)],
            "origin": ["ORD", "ATL"] * 5,
            "destination": ["DFW"] * 10,
        },
        FLIGHT_SCHEMA,
    )
    topic = flight_topics(partitions=2)

    summary = run_flights(
        flight_settings(topic=topic, input=path, loop=True, count=35, processes=2)
    )

    assert summary.counters.delivered == 35
    records = [
        decode_flight(m.value()) for m in read_topic(summary_bootstrap(flight_settings), topic)
    ]
    ids = [r["event_id"] for r in records]
    assert len(ids) == 35
    assert len(set(ids)) == 35
    rounds = Counter(r["replay_round"] for r in records)
    assert rounds == {0: 10, 1: 10, 2: 10, 3: 5}
    # Each process replays its own rows: process 0 the even rows, process 1 the odd ones.
    assert Counter(int(i.rsplit("-", 1)[1]) % 2 for i in ids) == {0: 18, 1: 17}


def test_synthetic_events_labelled_and_unique(
    tmp_path: Path, flight_topics: Callable[..., str], flight_settings: Callable[..., object]
) -> None:
    path = write_parquet(
        tmp_path / "routes.parquet",
        {
            "date": [datetime(2001, 1, 1)] * 4,
            "delay": [5, 7, None, -3],
            "distance": [800, 800, 300, 300],
            "origin": ["ORD", "ORD", "ATL", "ATL"],
            "destination": ["DFW", "DFW", "MCO", "MCO"],
        },
        FLIGHT_SCHEMA,
    )
    topic = flight_topics(partitions=2)

    summary = run_flights(
        flight_settings(topic=topic, input=path, synthetic=True, count=400, processes=2, seed=7)
    )

    assert summary.counters.delivered == 400
    records = [
        decode_flight(m.value()) for m in read_topic(summary_bootstrap(flight_settings), topic)
    ]
    assert len({r["event_id"] for r in records}) == 400
    assert all(r["is_synthetic"] for r in records)
    assert {r["event_id"].split("-")[0] for r in records} == {"s7"}
    routes = {(r["origin"], r["destination"], r["distance_miles"]) for r in records}
    assert routes == {("ORD", "DFW", 800), ("ATL", "MCO", 300)}
    assert {r["delay_minutes"] for r in records if r["origin"] == "ORD"} == {5, 7}
    assert {r["delay_minutes"] for r in records if r["origin"] == "ATL"} == {None, -3}


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtpath", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_times_utc_in_zone_west_of_utc(
    flight_topics: Callable[..., str], kafka_bootstrap: str, artifact_cache: Path
) -> None:
    topic = flight_topics(partitions=1)
    env = {**os.environ, "TZ": "America/Los_Angeles", "RTPATH_CACHE_DIR": str(artifact_cache)}
    started_ms = time.time_ns() // 1_000_000

    result = run_cli(
        ["--kafka-bootstrap", kafka_bootstrap, "produce", "flights", "--topic", topic,
         "--count", "5"],
        env,
    )  # fmt: skip
    finished_ms = time.time_ns() // 1_000_000

    assert result.returncode == 0, result.stderr
    records = [decode_flight(m.value()) for m in read_topic(kafka_bootstrap, topic)]
    assert len(records) == 5
    first = min(records, key=lambda r: int(r["event_id"].rsplit("-", 1)[1]))
    # 2001-01-01 00:01 local wall-clock time, the first row of the file, with no zone shift.
    assert first["departure"] == datetime(2001, 1, 1, 0, 1)
    for record in records:
        assert started_ms <= record["event_time"] <= finished_ms
        assert record["produced_at"] // 1000 == record["event_time"]


def test_sigterm_stops_cleanly_without_loss(
    flight_topics: Callable[..., str], kafka_bootstrap: str, artifact_cache: Path
) -> None:
    topic = flight_topics(partitions=2)
    env = {**os.environ, "RTPATH_CACHE_DIR": str(artifact_cache)}
    process = subprocess.Popen(
        [sys.executable, "-m", "rtpath", "--kafka-bootstrap", kafka_bootstrap, "produce",
         "flights", "--topic", topic, "--rate", "2000", "--loop", "--processes", "2",
         "--progress-interval", "1"],
        cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if "progress:" in line:
            break
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=120)[1]
    output = "".join(lines) + rest

    assert process.returncode == 0, output
    stop_line = next(line for line in output.splitlines() if "stopped: sent" in line)
    sent = int(stop_line.split("stopped: sent ")[1].split(",")[0])
    assert sent > 0
    assert f"delivered {sent}, failed 0, not flushed 0" in stop_line
    assert len(read_topic(kafka_bootstrap, topic)) == sent
