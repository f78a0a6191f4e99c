"""The Iceberg table definitions against the JSON contracts in schemas/*.avsc."""

import pytest
from pyiceberg.types import TimestamptzType

from core.schemas import load_schema
from sinks.iceberg.settings import TABLE_NAMES
from sinks.iceberg.tables import KAFKA_COLUMNS, definition


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_definition_matches_contract(name: str) -> None:
    spec = definition(name)
    contract = load_schema(name)["fields"]
    assert spec.json_columns == [field["name"] for field in contract]
    assert [f.name for f in spec.schema.fields][-2:] == list(KAFKA_COLUMNS)
    for field in contract:
        column = spec.schema.find_field(field["name"])
        nullable = isinstance(field["type"], list) and "null" in field["type"]
        assert column.required is not nullable, field["name"]
        assert column.doc, field["name"]


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_timestamps_have_epoch_units(name: str) -> None:
    spec = definition(name)
    stamped = {f.name for f in spec.schema.fields if isinstance(f.field_type, TimestamptzType)}
    assert stamped == set(spec.epoch_units)


def test_window_key_columns() -> None:
    assert definition("delays_by_airport_1m").key_columns == ["origin", "window_start"]
    assert definition("flights_enriched").key_columns == []
