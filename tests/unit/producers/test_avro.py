"""The vectorized encoder against fastavro, byte for byte."""

import io
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from fastavro import schemaless_reader, schemaless_writer

from core.schemas import parsed_schema
from producers import avro

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def fastavro_bytes(record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, parsed_schema("flight"), record)
    return out.getvalue()


@pytest.mark.parametrize(
    "value", [0, 1, -1, 63, -64, 64, -65, 2**31 - 1, -(2**31), 2**53 + 1, INT64_MAX, INT64_MIN]
)
def test_zigzag_varint_matches_fastavro_long(value: int) -> None:
    out = io.BytesIO()
    schemaless_writer(out, {"type": "long"}, value)
    assert avro.zigzag_varint(value) == out.getvalue()
    assert avro.encode_longs(np.array([value], dtype=np.int64)).to_pylist() == [out.getvalue()]


def test_prefix_plus_suffix_matches_fastavro() -> None:
    departures = [0, -1, 978_307_260_000, -62_135_596_800_000, 253_402_300_799_999]
    delays = [0, -1116, 1688, 2**31 - 1, -(2**31)]
    valid = [True, True, False, True, True]
    distances = [0, 1, 2176, 2**31 - 1, 127]
    origins = ["LAS", "", "ΑΘΗ", "O" * 300, "ORD"]
    destinations = ["PHL", "東京", "X", "", "DFW"]
    ids = ["1a2b3c4d-0-0", "e" * 200, "s7-0-1", "", "id-ü"]
    prefixes = avro.encode_prefixes(
        pa.array(ids),
        np.array(departures, dtype=np.int64),
        pa.array(origins, pa.large_string()),
        pa.array(destinations),
        np.array(delays, dtype=np.int64),
        np.array(valid),
        np.array(distances, dtype=np.int64),
    ).to_pylist()
    cases = [(1_796_414_790_602, 1_796_414_790_602_123, False, 0), (0, 0, True, 2**31 - 1)]
    for event_time, produced_at, synthetic, replay_round in cases:
        suffix = avro.encode_suffix(event_time, produced_at, synthetic, replay_round)
        assert len(suffix) <= avro.MAX_SUFFIX_BYTES
        for i in range(len(ids)):
            record = {
                "event_id": ids[i],
                "departure": departures[i],
                "origin": origins[i],
                "destination": destinations[i],
                "delay_minutes": delays[i] if valid[i] else None,
                "distance_miles": distances[i],
                "event_time": event_time,
                "produced_at": produced_at,
                "is_synthetic": synthetic,
                "replay_round": replay_round,
            }
            assert prefixes[i] + suffix == fastavro_bytes(record), f"row {i}"


def test_departure_decodes_as_naive_wall_clock() -> None:
    prefix = avro.encode_prefixes(
        pa.array(["x"]), np.array([978_307_260_000], dtype=np.int64), pa.array(["LAS"]),
        pa.array(["PHL"]), np.array([33]), np.array([True]), np.array([2176]),
    ).to_pylist()[0]  # fmt: skip
    value = prefix + avro.encode_suffix(1, 1000, False, 0)

    record = schemaless_reader(io.BytesIO(value), parsed_schema("flight"), None)

    assert isinstance(record, dict)
    assert record["departure"] == datetime(2001, 1, 1, 0, 1)
    assert record["delay_minutes"] == 33
