"""The Iceberg sink against a real broker and a real pyiceberg SQL catalog."""

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import Consumer

from core.topics import dead_letter_topic
from sinks.dead_letters import DeadLetter
from sinks.iceberg.catalog import open_catalog
from sinks.iceberg.offsets import stored_offsets
from sinks.iceberg.settings import IcebergSettings
from sinks.iceberg.sink import IcebergSink
from sinks.iceberg.tables import SYNTHETIC_PROPERTY
from tests.integration.sinks.iceberg.conftest import (
    SinkTopics,
    encode,
    flight_row,
    produce,
    read_rows,
    window_row,
)

pytestmark = pytest.mark.integration

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def expected_flight(row: dict[str, Any], partition: int, offset: int) -> dict[str, Any]:
    """Return the Iceberg row the sink must store for the JSON `row`."""
    expected = {name: row.get(name) for name in row}
    for name in ("delay_minutes", "origin_city", "origin_state", "origin_latitude",
                 "origin_longitude", "destination_city", "destination_state",
                 "destination_latitude", "destination_longitude", "great_circle_miles"):  # fmt: skip
        expected.setdefault(name, None)
    expected["departure"] = datetime.fromisoformat(row["departure"])
    expected["event_time"] = EPOCH + timedelta(milliseconds=row["event_time"])
    expected["produced_at"] = EPOCH + timedelta(microseconds=row["produced_at"])
    expected["enriched_at"] = EPOCH + timedelta(microseconds=row["enriched_at"])
    expected["kafka_partition"] = partition
    expected["kafka_offset"] = offset
    return expected


def expected_window(row: dict[str, Any]) -> dict[str, Any]:
    expected = dict(row)
    expected["window_start"] = EPOCH + timedelta(milliseconds=row["window_start"])
    expected["window_end"] = EPOCH + timedelta(milliseconds=row["window_end"])
    expected["max_produced_at"] = EPOCH + timedelta(microseconds=row["max_produced_at"])
    expected["emitted_at"] = EPOCH + timedelta(microseconds=row["emitted_at"])
    return expected


def special_flights() -> list[dict[str, Any]]:
    """Rows with nulls, absent fields, negative delays, non-ASCII text and a fraction."""
    unknown_origin = flight_row(
        1, origin="XYZ", origin_city=None, origin_state=None, origin_latitude=None,
        origin_longitude=None, great_circle_miles=None, delay_minutes=None,
    )  # fmt: skip
    absent = flight_row(2)
    for name in ("destination_city", "destination_state", "destination_latitude",
                 "destination_longitude", "great_circle_miles", "delay_minutes"):  # fmt: skip
        del absent[name]
    return [
        unknown_origin,
        absent,
        flight_row(3, delay_minutes=-1116, origin_city="Zürich", destination_city="São Paulo"),
        flight_row(4, delay_minutes=1688, destination_city="東京", origin_state="ÎLE"),
        flight_row(5, departure="2001-01-03 07:05:00.250", event_id="ev-ünï-5"),
        flight_row(6, is_synthetic=True, replay_round=3),
    ]


def read_dead_letters(bootstrap: str, topic: str, count: int) -> list[DeadLetter]:
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"dlq-{topic}",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })  # fmt: skip
    consumer.subscribe([dead_letter_topic(topic)])
    letters: list[DeadLetter] = []
    deadline = time.monotonic() + 30
    try:
        while len(letters) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                letters.append(DeadLetter.from_message(message))
    finally:
        consumer.close()
    return letters


def test_known_input_lands_exactly(
    kafka_bootstrap: str,
    sink_topics: SinkTopics,
    make_settings: Callable[..., IcebergSettings],
) -> None:
    rows = special_flights() + [flight_row(i) for i in range(10, 40)]
    bad = flight_row(99, distance_miles="far")
    records = [(i % 3, encode(row)) for i, row in enumerate(rows)]
    records.insert(7, (1, encode(bad)))
    produce(kafka_bootstrap, sink_topics.flights, records)

    settings = make_settings(iceberg_tables=("flights_enriched",), iceberg_commit_rows=8)
    totals = IcebergSink(settings).run()

    offsets = Counter[int]()
    expected = []
    for partition, value in records:
        offset = offsets[partition]
        offsets[partition] += 1
        if value != encode(bad):
            row = next(r for r in rows if encode(r) == value)
            expected.append(expected_flight(row, partition, offset))
    expected.sort(key=lambda r: (r["kafka_partition"], r["kafka_offset"]))
    stored = read_rows(settings, "flights_enriched")
    assert len(stored) == len(rows)
    for got, want in zip(stored, expected, strict=True):
        assert got == want
    assert totals.rows == len(rows)
    assert totals.dead_letters == 1

    letters = read_dead_letters(kafka_bootstrap, sink_topics.flights, 1)
    assert len(letters) == 1
    assert letters[0].sink == "iceberg"
    assert letters[0].partition == 1
    assert letters[0].offset == 2
    assert "distance_miles" in letters[0].error or "int32" in letters[0].error

    table = open_catalog(settings).load_table((settings.iceberg_namespace, "flights_enriched"))
    assert table.properties[SYNTHETIC_PROPERTY] == "true"
    assert stored_offsets(table) == {sink_topics.flights: dict(offsets)}


def test_table_layout_and_docs(make_settings: Callable[..., IcebergSettings]) -> None:
    settings = make_settings()
    IcebergSink(settings)
    catalog = open_catalog(settings)
    for name, source in (("flights_enriched", "event_time"),
                         ("delays_by_airport_1m", "window_start")):  # fmt: skip
        table = catalog.load_table((settings.iceberg_namespace, name))
        assert table.metadata.format_version == 2
        assert table.properties["write.parquet.compression-codec"] == "zstd"
        assert table.properties["commit.manifest-merge.enabled"] == "true"
        assert table.properties["comment"]
        assert SYNTHETIC_PROPERTY not in table.properties
        (field,) = table.spec().fields
        assert str(field.transform) == "day"
        assert table.schema().find_column_name(field.source_id) == source
        for column in table.schema().fields:
            assert column.doc, f"{name}.{column.name} has no doc"


def test_window_delivered_twice_stored_once(
    kafka_bootstrap: str,
    sink_topics: SinkTopics,
    make_settings: Callable[..., IcebergSettings],
) -> None:
    windows = [
        window_row("ORD", 0),
        window_row("SFO", 0, avg_delay_minutes=None, max_delay_minutes=None),
        window_row("ORD", 1),
        window_row("Ñandú", 1, avg_delay_minutes=-3.25),
    ]
    # The first run sees ORD/0 twice in one batch, on two partitions.
    first = [(i % 2, encode(w)) for i, w in enumerate(windows)] + [(1, encode(windows[0]))]
    produce(kafka_bootstrap, sink_topics.windows, first)
    settings = make_settings(iceberg_tables=("delays_by_airport_1m",))
    IcebergSink(settings).run()

    # Flink restarted from a checkpoint: the windows arrive again, in later commits.
    produce(kafka_bootstrap, sink_topics.windows, [(0, encode(w)) for w in windows[1:3]])
    IcebergSink(make_settings(iceberg_tables=("delays_by_airport_1m",))).run()

    stored = read_rows(settings, "delays_by_airport_1m")
    keys = Counter((r["origin"], r["window_start"]) for r in stored)
    assert len(stored) == len(windows)
    assert set(keys.values()) == {1}
    by_key = {(r["origin"], r["window_start"]): r for r in stored}
    for window in windows:
        want = expected_window(window)
        got = by_key[(want["origin"], want["window_start"])]
        got_values = {k: v for k, v in got.items() if not k.startswith("kafka_")}
        assert got_values == want
