"""`rtpath iceberg maintain` on tables the sink filled with many small commits."""

from collections.abc import Callable

import pytest

from rtpath.cli import main
from sinks.iceberg import maintain
from sinks.iceberg.catalog import open_catalog
from sinks.iceberg.offsets import stored_offsets
from sinks.iceberg.settings import IcebergSettings
from sinks.iceberg.sink import IcebergSink
from sinks.iceberg.tables import definition
from tests.integration.sinks.iceberg.conftest import (
    SinkTopics,
    encode,
    flight_row,
    produce,
    window_row,
)

pytestmark = pytest.mark.integration

FLIGHTS = 1500


def test_maintain_keeps_rows_and_offsets(
    kafka_bootstrap: str,
    sink_topics: SinkTopics,
    make_settings: Callable[..., IcebergSettings],
) -> None:
    # 1500 flights 7 s apart span two UTC days; windows cover two origins.
    flights = [(i % 3, encode(flight_row(i))) for i in range(FLIGHTS)]
    windows = [(m % 2, encode(window_row(o, m))) for m in range(75) for o in ("ORD", "SFO")]
    produce(kafka_bootstrap, sink_topics.flights, flights)
    produce(kafka_bootstrap, sink_topics.windows, windows)
    settings = make_settings(iceberg_commit_rows=100)
    IcebergSink(settings).run()

    catalog = open_catalog(settings)
    tables = {
        name: catalog.load_table((settings.iceberg_namespace, name))
        for name in ("flights_enriched", "delays_by_airport_1m")
    }
    before = {name: maintain.read_all(t) for name, t in tables.items()}
    offsets_before = {name: stored_offsets(t) for name, t in tables.items()}
    flights_table = tables["flights_enriched"]
    flight_days = maintain.day_file_counts(flights_table, definition("flights_enriched"))
    assert len(flight_days) == 2
    assert min(flight_days.values()) > 1

    code = main([
        "--data-dir", str(settings.data_dir), "iceberg", "maintain",
        "--compact-all", "--expire-older-than", "0s",
    ])  # fmt: skip
    assert code == 0

    for name, table in tables.items():
        table.refresh()
        after = maintain.read_all(table)
        assert after.num_rows == before[name].num_rows
        assert after.equals(before[name])
        assert stored_offsets(table) == offsets_before[name]
        assert set(maintain.day_file_counts(table, definition(name)).values()) == {1}
        # Expiry keeps the current snapshot only: compaction wrote the offsets into it.
        assert len(table.snapshots()) == 1

    # A sink started after maintenance resumes from the offsets the compaction kept.
    produce(kafka_bootstrap, sink_topics.flights,
            [(0, encode(flight_row(FLIGHTS + i))) for i in range(10)])  # fmt: skip
    totals = IcebergSink(make_settings()).run()
    assert totals.rows == 10
    assert totals.skipped == 0
    stored = flights_table.refresh().scan().to_arrow()
    assert len(stored) == FLIGHTS + 10
    assert len(set(stored.column("event_id").to_pylist())) == FLIGHTS + 10
