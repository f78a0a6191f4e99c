"""Two writers committing to one Iceberg table through separate catalog connections."""

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from sinks.iceberg.catalog import open_catalog
from sinks.iceberg.decode import BatchDecoder
from sinks.iceberg.offsets import stored_offsets
from sinks.iceberg.settings import IcebergSettings
from sinks.iceberg.tables import definition, ensure_table
from sinks.iceberg.writer import CommitResult, TableWriter
from tests.integration.sinks.iceberg.conftest import encode, flight_row

pytestmark = pytest.mark.integration

TOPIC = "flights_enriched"


def open_writer(settings: IcebergSettings) -> TableWriter:
    """Return a writer with a catalog connection of its own, as a second process would have."""
    return TableWriter(
        open_catalog(settings), settings.iceberg_namespace, definition("flights_enriched"),
        TOPIC, attempts=20, backoff_s=0.01,
    )  # fmt: skip


def batch(writer: TableWriter, partition: int, first: int, count: int) -> pa.Table:
    """Decode `count` flights read from `partition` starting at offset `first`."""
    decoder = BatchDecoder(writer.spec, writer.arrow_schema)
    offsets = list(range(first, first + count))
    values = [encode(flight_row(partition * 100_000 + o)) for o in offsets]
    rows, rejects = decoder.decode(values, [partition] * count, offsets)
    assert rejects == []
    return rows


def test_stale_writer_retries_and_succeeds(tmp_path: Path) -> None:
    settings = IcebergSettings(data_dir=tmp_path)
    ensure_table(open_catalog(settings), settings.iceberg_namespace, "flights_enriched")
    first, second = open_writer(settings), open_writer(settings)

    # Both loaded the same snapshot; the second commit conflicts and must retry.
    result_first = first.commit(batch(first, 0, 0, 100), {0: 100})
    result_second = second.commit(batch(second, 1, 0, 100), {1: 100})

    assert result_first.attempts == 1
    assert result_second.attempts == 2
    assert result_second.rows == 100
    table = second.table.refresh()
    assert len(table.scan().to_arrow()) == 200
    assert stored_offsets(table) == {TOPIC: {0: 100, 1: 100}}


def test_concurrent_writers_lose_no_rows(tmp_path: Path) -> None:
    settings = IcebergSettings(data_dir=tmp_path)
    ensure_table(open_catalog(settings), settings.iceberg_namespace, "flights_enriched")
    commits, size = 12, 50
    start = threading.Barrier(2)
    results: dict[int, list[CommitResult]] = {0: [], 1: []}
    errors: list[BaseException] = []

    def write(partition: int) -> None:
        writer = open_writer(settings)
        try:
            start.wait()
            for n in range(commits):
                rows = batch(writer, partition, n * size, size)
                results[partition].append(writer.commit(rows, {partition: (n + 1) * size}))
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    assert [len(results[p]) for p in (0, 1)] == [commits, commits]
    table = open_writer(settings).table
    stored = table.scan().to_arrow()
    assert len(stored) == 2 * commits * size
    assert len(set(stored.column("event_id").to_pylist())) == 2 * commits * size
    assert stored_offsets(table) == {TOPIC: {0: commits * size, 1: commits * size}}


def test_zombie_writer_adds_no_duplicates(tmp_path: Path) -> None:
    settings = IcebergSettings(data_dir=tmp_path)
    ensure_table(open_catalog(settings), settings.iceberg_namespace, "flights_enriched")
    owner, zombie = open_writer(settings), open_writer(settings)

    # The new owner of partition 0 stored offsets 0-149; the old owner still holds 100-199.
    owner.commit(batch(owner, 0, 0, 150), {0: 150})
    result = zombie.commit(batch(zombie, 0, 100, 100), {0: 200})

    assert result.skipped == 50
    assert result.rows == 50
    table = owner.table.refresh()
    offsets = sorted(table.scan().to_arrow().column("kafka_offset").to_pylist())
    assert offsets == list(range(200))
    assert stored_offsets(table) == {TOPIC: {0: 200}}
