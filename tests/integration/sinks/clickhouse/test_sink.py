"""The ClickHouse sink on known input, against a real broker and chDB in this process."""

import time
import uuid
from typing import Any

import pytest
from confluent_kafka import Consumer

from core.topics import dead_letter_topic
from sinks.clickhouse.sink import ClickHouseSink
from sinks.dead_letters import DeadLetter
from tests.integration.sinks.clickhouse.conftest import (
    SinkSetup,
    encode,
    flight_row,
    produce,
    window_row,
)

pytestmark = pytest.mark.integration

FLIGHT_COLUMNS = """
    event_id, toString(departure), origin, destination, delay_minutes, distance_miles,
    origin_city, origin_state, origin_latitude, origin_longitude,
    destination_city, destination_state, destination_latitude, destination_longitude,
    great_circle_miles, toUnixTimestamp64Milli(event_time), toUnixTimestamp64Micro(produced_at),
    toUnixTimestamp64Micro(enriched_at), is_synthetic, replay_round
"""
FLIGHT_FIELDS = [
    "event_id", "departure", "origin", "destination", "delay_minutes", "distance_miles",
    "origin_city", "origin_state", "origin_latitude", "origin_longitude",
    "destination_city", "destination_state", "destination_latitude", "destination_longitude",
    "great_circle_miles", "event_time", "produced_at", "enriched_at", "is_synthetic",
    "replay_round",
]  # fmt: skip
WINDOW_COLUMNS = """
    origin, toUnixTimestamp64Milli(window_start), toUnixTimestamp64Milli(window_end), flights,
    delayed_flights, avg_delay_minutes, max_delay_minutes, toUnixTimestamp64Micro(max_produced_at),
    toUnixTimestamp64Micro(emitted_at)
"""
WINDOW_FIELDS = [
    "origin", "window_start", "window_end", "flights", "delayed_flights", "avg_delay_minutes",
    "max_delay_minutes", "max_produced_at", "emitted_at",
]  # fmt: skip


def expected_flight(row: dict[str, Any]) -> tuple[Any, ...]:
    values = [row.get(name) for name in FLIGHT_FIELDS]
    departure = row["departure"]
    values[1] = departure if "." in departure else departure + ".000"
    return tuple(values)


def known_flights() -> list[dict[str, Any]]:
    """Return flights with nulls, absent nullable fields, negative delays and non-ASCII names."""
    rows = [flight_row(i) for i in range(40)]
    rows[3].update(delay_minutes=-27, origin_city="São Paulo", destination_city="Zürich")
    rows[4].update(origin_city="東京", origin_state="東京都", delay_minutes=None)
    rows[5].update(
        origin_city=None, origin_state=None, origin_latitude=None, origin_longitude=None,
        great_circle_miles=None, departure="2001-02-28 23:59:59",
    )  # fmt: skip
    for name in ("destination_city", "destination_state", "destination_latitude",
                 "destination_longitude", "great_circle_miles", "delay_minutes"):  # fmt: skip
        del rows[6][name]
    rows[7].update(delay_minutes=-1116, distance_miles=0, origin_city='O\'Hare "Intl" \\ \t')
    return rows


def test_known_input_lands_exactly(sink_setup: SinkSetup, open_store) -> None:
    flights = known_flights()
    windows = [window_row("ORD", 0), window_row("DFW", 1, avg_delay_minutes=None,
                                                    max_delay_minutes=None)]  # fmt: skip
    produce(sink_setup.bootstrap, sink_setup.flights_topic,
            [(i % 3, encode(row)) for i, row in enumerate(flights)])  # fmt: skip
    produce(sink_setup.bootstrap, sink_setup.windows_topic,
            [(i % 2, encode(row)) for i, row in enumerate(windows)])  # fmt: skip

    totals = ClickHouseSink(sink_setup.settings(clickhouse_batch_rows=7)).run()

    assert totals.rows == len(flights) + len(windows)
    assert totals.dead_letters == 0
    client = open_store(sink_setup)
    stored = client.query(f"SELECT {FLIGHT_COLUMNS} FROM flights_enriched ORDER BY event_id")
    assert stored.result_rows == [expected_flight(row) for row in flights]
    stored_windows = client.query(
        f"SELECT {WINDOW_COLUMNS} FROM delays_by_airport_1m FINAL ORDER BY window_start"
    )
    assert stored_windows.result_rows == [tuple(w[name] for name in WINDOW_FIELDS) for w in windows]


def test_rows_keep_kafka_position(sink_setup: SinkSetup, open_store) -> None:
    produce(sink_setup.bootstrap, sink_setup.flights_topic,
            [(i % 3, encode(flight_row(i))) for i in range(9)])  # fmt: skip

    ClickHouseSink(sink_setup.settings()).run()

    client = open_store(sink_setup)
    positions = client.query(
        "SELECT event_id, kafka_topic, kafka_partition, kafka_offset FROM flights_enriched "
        "ORDER BY event_id"
    ).result_rows
    assert positions == [(f"ev-{i:06d}", sink_setup.flights_topic, i % 3, i // 3) for i in range(9)]
    early = client.command("SELECT count() FROM flights_enriched WHERE inserted_at < produced_at")
    assert early == 0


def test_rollup_counts_per_state(sink_setup: SinkSetup, open_store) -> None:
    flights = [flight_row(i, event_time=1_700_000_000_000 + (i % 2) * 10_000) for i in range(12)]
    flights[0].update(origin_state=None, origin_city=None)
    flights[1].update(delay_minutes=None)
    produce(sink_setup.bootstrap, sink_setup.flights_topic,
            [(0, encode(row)) for row in flights])  # fmt: skip

    ClickHouseSink(sink_setup.settings(clickhouse_batch_rows=5)).run()

    client = open_store(sink_setup)
    rollup = client.query(
        "SELECT toUnixTimestamp(window_start), origin_state, sum(flights), sum(delayed_flights), "
        "avgMerge(delay_minutes_avg), max(delay_minutes_max) FROM flights_by_state_10s "
        "GROUP BY window_start, origin_state ORDER BY window_start, origin_state"
    ).result_rows
    expected: dict[tuple[int, str], list[Any]] = {}
    for row in flights:
        key = (row["event_time"] // 10_000 * 10, row["origin_state"] or "")
        expected.setdefault(key, []).append(row["delay_minutes"])
    assert rollup == [
        (
            window, state, len(delays), sum(1 for d in delays if d is not None and d >= 15),
            sum(d for d in delays if d is not None) / sum(1 for d in delays if d is not None),
            max(d for d in delays if d is not None),
        )
        for (window, state), delays in sorted(expected.items())
    ]  # fmt: skip


def test_window_delivered_twice_once(sink_setup: SinkSetup, open_store) -> None:
    first = window_row("ATL", 5, flights=10, emitted_at=1_700_000_400_000_000)
    again = window_row("ATL", 5, flights=12, emitted_at=1_700_000_460_000_000)
    other = window_row("ATL", 6)
    produce(sink_setup.bootstrap, sink_setup.windows_topic,
            [(0, encode(first)), (0, encode(other)), (1, encode(again))])  # fmt: skip

    ClickHouseSink(sink_setup.settings(clickhouse_batch_rows=1)).run()

    client = open_store(sink_setup)
    stored = client.query(
        "SELECT origin, toUnixTimestamp64Milli(window_start), flights FROM delays_by_airport_1m "
        "FINAL ORDER BY window_start"
    ).result_rows
    assert stored == [("ATL", first["window_start"], 12), ("ATL", other["window_start"], 16)]
    by_argmax = client.query(
        "SELECT argMax(flights, emitted_at) FROM delays_by_airport_1m "
        "GROUP BY origin, window_start ORDER BY window_start"
    ).result_rows
    assert by_argmax == [(12,), (16,)]


def test_rerun_adds_only_new_rows(sink_setup: SinkSetup, open_store) -> None:
    produce(sink_setup.bootstrap, sink_setup.flights_topic,
            [(i % 3, encode(flight_row(i))) for i in range(30)])  # fmt: skip
    ClickHouseSink(sink_setup.settings(clickhouse_group_id="same")).run()
    produce(sink_setup.bootstrap, sink_setup.flights_topic,
            [(i % 3, encode(flight_row(i))) for i in range(30, 45)])  # fmt: skip

    # A new consumer group has no committed offsets: the start offsets come from ClickHouse.
    totals = ClickHouseSink(sink_setup.settings(clickhouse_group_id="other")).run()

    assert totals.rows == 15
    client = open_store(sink_setup)
    counts = client.query("SELECT count(), uniqExact(event_id) FROM flights_enriched").result_rows
    assert counts == [(45, 45)]


def read_dead_letters(bootstrap: str, topic: str, count: int) -> list[Any]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex,
                         "auto.offset.reset": "earliest"})  # fmt: skip
    consumer.subscribe([topic])
    received = []
    deadline = time.monotonic() + 30
    try:
        while len(received) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                received.append(message)
    finally:
        consumer.close()
    return received


def test_wrong_type_goes_to_dead_letters(sink_setup: SinkSetup, open_store) -> None:
    rows = [encode(flight_row(i)) for i in range(20)]
    rows[4] = encode(flight_row(4, distance_miles="far"))
    rows[11] = encode(flight_row(11, event_time="yesterday"))
    missing = flight_row(15)
    del missing["event_id"]
    rows[15] = encode(missing)
    rows[17] = b"not json"
    bad = {4, 11, 15, 17}
    produce(sink_setup.bootstrap, sink_setup.flights_topic, [(0, value) for value in rows])

    totals = ClickHouseSink(sink_setup.settings(clickhouse_batch_rows=20)).run()

    assert totals.dead_letters == len(bad)
    assert totals.rows == len(rows) - len(bad)
    client = open_store(sink_setup)
    stored = client.query("SELECT kafka_offset FROM flights_enriched ORDER BY kafka_offset")
    assert [offset for (offset,) in stored.result_rows] == [i for i in range(20) if i not in bad]

    letters = read_dead_letters(
        sink_setup.bootstrap, dead_letter_topic(sink_setup.flights_topic), len(bad)
    )
    assert len(letters) == len(bad)
    decoded = {DeadLetter.from_message(m).offset: (m, DeadLetter.from_message(m)) for m in letters}
    assert sorted(decoded) == sorted(bad)
    for offset, (message, letter) in decoded.items():
        assert message.value() == rows[offset]
        assert letter.topic == sink_setup.flights_topic
        assert letter.partition == 0
        assert letter.sink == "clickhouse"
        assert letter.error.startswith("Code: ")
    assert "distance_miles" in decoded[4][1].error
    assert "event_time" in decoded[11][1].error
    assert "event_id" in decoded[15][1].error
