"""Decoding JSON messages into rows of the Iceberg tables' Arrow schemas."""

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from sinks.iceberg.decode import BatchDecoder
from sinks.iceberg.tables import definition


def decoder(name: str = "delays_by_airport_1m") -> BatchDecoder:
    spec = definition(name)  # type: ignore[arg-type]
    return BatchDecoder(spec, spec.schema.as_arrow())


def window(**overrides: Any) -> bytes:
    row: dict[str, Any] = {
        "origin": "ORD", "window_start": 1_700_000_040_000, "window_end": 1_700_000_100_000,
        "flights": 3, "delayed_flights": 1, "avg_delay_minutes": -2.5,
        "max_delay_minutes": 20, "max_produced_at": 1_700_000_099_000_007,
        "emitted_at": 1_700_000_101_000_009,
    }  # fmt: skip
    row.update(overrides)
    return json.dumps(row, ensure_ascii=False).encode()


def test_decode_converts_epoch_units() -> None:
    rows, rejects = decoder().decode([window()], [2], [41])
    assert rejects == []
    (row,) = rows.to_pylist()
    assert row["window_start"] == datetime(2023, 11, 14, 22, 14, tzinfo=UTC)
    assert row["window_end"] == datetime(2023, 11, 14, 22, 15, tzinfo=UTC)
    assert row["max_produced_at"] == datetime(2023, 11, 14, 22, 14, 59, 7, tzinfo=UTC)
    assert row["emitted_at"] == datetime(2023, 11, 14, 22, 15, 1, 9, tzinfo=UTC)
    assert row["kafka_partition"] == 2
    assert row["kafka_offset"] == 41


def test_decode_uses_table_schema_exactly() -> None:
    target = definition("flights_enriched").schema.as_arrow()
    flights = BatchDecoder(definition("flights_enriched"), target)
    rows, _ = flights.decode([], [], [])
    assert rows.schema == target
    rows, _ = decoder().decode([window()], [0], [0])
    assert rows.schema == decoder().target
    assert rows.schema.field("window_start").type == pa.timestamp("us", tz="UTC")
    assert not rows.schema.field("origin").nullable
    assert rows.schema.field("avg_delay_minutes").nullable


def test_decode_null_and_absent_fields() -> None:
    absent = json.loads(window())
    del absent["avg_delay_minutes"]
    rows, rejects = decoder().decode(
        [window(max_delay_minutes=None), json.dumps(absent).encode()], [0, 0], [0, 1]
    )
    assert rejects == []
    assert rows.column("max_delay_minutes").to_pylist() == [None, 20]
    assert rows.column("avg_delay_minutes").to_pylist() == [-2.5, None]


def test_decode_rejects_bad_messages() -> None:
    values = [
        window(origin="ÅRE"),
        b'{"origin": "ORD", ',
        window(flights="many"),
        b"",
        window(origin=None),
        window() + b"\n" + window(),
        window(window_start=2**62),
        window(origin="SFO"),
    ]
    rows, rejects = decoder().decode(values, [0] * len(values), list(range(100, 108)))
    assert [r.index for r in rejects] == [1, 2, 3, 4, 5, 6]
    assert "required field 'origin'" in rejects[3].error
    assert "exactly one JSON object" in rejects[4].error
    assert "window_start" in rejects[5].error
    assert rows.column("origin").to_pylist() == ["ÅRE", "SFO"]
    assert rows.column("kafka_offset").to_pylist() == [100, 107]


def test_decode_parses_local_departure() -> None:
    spec = definition("flights_enriched")
    flights = BatchDecoder(spec, spec.schema.as_arrow())
    row = {
        "event_id": "e", "departure": "2001-01-03 07:05:00.25", "origin": "ORD",
        "destination": "SFO", "distance_miles": 1846, "event_time": 0, "produced_at": 0,
        "enriched_at": 0, "is_synthetic": False, "replay_round": 0,
    }  # fmt: skip
    rows, rejects = flights.decode([json.dumps(row).encode()], [0], [0])
    assert rejects == []
    assert rows.column("departure").to_pylist() == [datetime(2001, 1, 3, 7, 5, 0, 250_000)]
    assert rows.column("event_time").to_pylist() == [datetime(1970, 1, 1, tzinfo=UTC)]
