"""Pure logic of the job's Python function: decoding airports and airport attributes."""

import io

from fastavro import schemaless_writer

from core.schemas import parsed_schema
from jobs.dimension import Airport, decode_airport
from jobs.udfs import airport_attributes


def encode(schema: str, record: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, parsed_schema(schema), record)
    return buffer.getvalue()


def test_airport_attributes_with_unknown_destination() -> None:
    atl = Airport("Atlanta", "GA", 33.64, -84.43)
    row = airport_attributes(atl, None)
    assert list(row) == ["Atlanta", "GA", 33.64, -84.43, None, None, None, None]


def test_decode_airport() -> None:
    record = {
        "code": "SEA", "name": "Seattle-Tacoma", "city": "Seattle", "state": "WA",
        "country": "USA", "latitude": 47.45, "longitude": -122.31, "updated_at": 1,
    }  # fmt: skip
    assert decode_airport(encode("airport", record)) == (
        "SEA", Airport("Seattle", "WA", 47.45, -122.31),
    )  # fmt: skip
