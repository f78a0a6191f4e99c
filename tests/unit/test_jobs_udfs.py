"""Pure logic of the job's Python functions: decoding flights and airport attributes."""

import datetime
import io

import pytest
from fastavro import schemaless_writer

from core.schemas import parsed_schema
from jobs.dimension import Airport, decode_airport
from jobs.geo import great_circle_miles
from jobs.udfs import airport_attributes, decode_flight_value

FLIGHT = {
    "event_id": "e1",
    "departure": datetime.datetime(2001, 1, 2, 3, 4, 5, 678_000),
    "origin": "ATL",
    "destination": "ORD",
    "delay_minutes": None,
    "distance_miles": 606,
    "event_time": 1_700_000_000_123,
    "produced_at": 1_700_000_000_123_456,
    "is_synthetic": False,
    "replay_round": 2,
}


def encode(schema: str, record: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, parsed_schema(schema), record)
    return buffer.getvalue()


def test_decode_flight_reads_every_field() -> None:
    row = decode_flight_value(encode("flight", FLIGHT))
    departure_ms = int(
        FLIGHT["departure"].replace(tzinfo=datetime.UTC).timestamp() * 1000  # type: ignore[attr-defined]
    )
    assert list(row) == [
        "e1", departure_ms, "ATL", "ORD", None, 606,
        1_700_000_000_123, 1_700_000_000_123_456, False, 2, None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (None, "record value is null"),
        (b"", "invalid Avro flight record"),
        (b"\x02\xff", "invalid Avro flight record"),
        (encode("flight", FLIGHT) + b"\x00", "1 bytes after the record"),
    ],
)
def test_decode_flight_reports_invalid_record(value: bytes | None, error: str) -> None:
    row = decode_flight_value(value)
    assert error in row[10]
    assert row[6] == 0


def test_airport_attributes_with_unknown_destination() -> None:
    atl = Airport("Atlanta", "GA", 33.64, -84.43)
    row = airport_attributes(atl, None)
    assert list(row) == ["Atlanta", "GA", 33.64, -84.43, None, None, None, None, None]


def test_great_circle_atl_ord() -> None:
    # ATL to ORD is 606 statute miles by the published route distance.
    assert great_circle_miles(33.6367, -84.4281, 41.9786, -87.9048) == pytest.approx(606, abs=2)


def test_decode_airport() -> None:
    record = {
        "code": "SEA", "name": "Seattle-Tacoma", "city": "Seattle", "state": "WA",
        "country": "USA", "latitude": 47.45, "longitude": -122.31, "updated_at": 1,
    }  # fmt: skip
    assert decode_airport(encode("airport", record)) == (
        "SEA", Airport("Seattle", "WA", 47.45, -122.31),
    )  # fmt: skip
