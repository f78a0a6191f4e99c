"""Table maintenance: expire old snapshots and compact the small files of a day partition.

Both keep the sink's resume point: expiry never removes the newest snapshot that stores
Kafka offsets, and a compaction writes the current offsets into its own snapshot summary.
Both may run while the sink commits; a conflict reloads the table and retries.
"""

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import pyarrow as pa
from pyiceberg.expressions import And, BooleanExpression, GreaterThanOrEqual, LessThan, Reference
from pyiceberg.expressions.literals import literal
from pyiceberg.table import Table
from pyiceberg.table.snapshots import ancestors_of

from sinks.iceberg.offsets import OFFSETS_PROPERTY, format_offsets, stored_offsets
from sinks.iceberg.tables import KAFKA_OFFSET, KAFKA_PARTITION, TableDefinition
from sinks.iceberg.writer import RETRYABLE, IcebergCommitError

logger = logging.getLogger(__name__)

ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class ExpireResult:
    """Snapshots removed and kept by one expiry."""

    expired: int
    kept: int


@dataclass(frozen=True)
class CompactResult:
    """Data files of one day partition before and after a compaction."""

    day: date
    rows: int
    """Rows rewritten; 0 when the partition had fewer than two files and was left alone."""
    files_before: int
    files_after: int


def expire_snapshots(table: Table, older_than: timedelta) -> ExpireResult:
    """Expire the snapshots committed more than `older_than` ago.

    The current snapshot, branch and tag heads, and the newest snapshot that stores Kafka
    offsets are kept. Data files that only expired snapshots used stay on storage: pyiceberg
    0.12 removes the snapshots from the metadata but deletes no files.
    """
    cutoff_ms = int((datetime.now(UTC) - older_than).timestamp() * 1000)

    def attempt(table: Table) -> ExpireResult:
        keep = _snapshots_to_keep(table)
        expired = [
            s.snapshot_id
            for s in table.snapshots()
            if s.timestamp_ms < cutoff_ms and s.snapshot_id not in keep
        ]
        if expired:
            table.maintenance.expire_snapshots().by_ids(expired).commit()
        return ExpireResult(len(expired), len(table.snapshots()))

    return _with_retries(table, "expire snapshots", attempt)


def _snapshots_to_keep(table: Table) -> set[int]:
    keep = {ref.snapshot_id for ref in table.metadata.refs.values()}
    for snapshot in ancestors_of(table.current_snapshot(), table.metadata):
        if snapshot.summary is not None and snapshot.summary[OFFSETS_PROPERTY] is not None:
            keep.add(snapshot.snapshot_id)
            break
    return keep


def compact_day(table: Table, spec: TableDefinition, day: date) -> CompactResult:
    """Rewrite the data files of the day partition `day` (UTC) into as few files as fit.

    The rows stay identical; they are rewritten sorted by the partition's source column,
    then Kafka partition and offset. The whole partition is read into memory.
    """
    day_filter = _day_filter(spec.partition_source, day)

    def attempt(table: Table) -> CompactResult:
        files_before = sum(1 for _ in table.scan(row_filter=day_filter).plan_files())
        if files_before < 2:
            return CompactResult(day, 0, files_before, files_before)
        rows = table.scan(row_filter=day_filter).to_arrow()
        rows = rows.sort_by(
            [(spec.partition_source, "ascending"), (KAFKA_PARTITION, "ascending"),
             (KAFKA_OFFSET, "ascending")]
        )  # fmt: skip
        summary = {OFFSETS_PROPERTY: format_offsets(stored_offsets(table))}
        table.overwrite(rows, overwrite_filter=day_filter, snapshot_properties=summary)
        files_after = sum(1 for _ in table.scan(row_filter=day_filter).plan_files())
        return CompactResult(day, rows.num_rows, files_before, files_after)

    return _with_retries(table, f"compact {day.isoformat()}", attempt)


def day_file_counts(table: Table, spec: TableDefinition) -> dict[date, int]:
    """Return the number of data files of each day partition."""
    counts: dict[date, int] = {}
    files = table.inspect.files().select(["partition"]).column("partition").to_pylist()
    for partition in files:
        day: date | None = partition[spec.partition_name]
        if day is not None:
            counts[day] = counts.get(day, 0) + 1
    return counts


def read_all(table: Table) -> pa.Table:
    """Return every row of `table` in a stable order, for comparisons."""
    rows = table.scan().to_arrow()
    return rows.sort_by([(KAFKA_PARTITION, "ascending"), (KAFKA_OFFSET, "ascending")])


def _day_filter(column: str, day: date) -> BooleanExpression:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    return And(
        GreaterThanOrEqual(term=Reference(column), value=literal(start.isoformat())),
        LessThan(term=Reference(column), value=literal(end.isoformat())),
    )


def _with_retries(
    table: Table, action: str, attempt: Callable[[Table], ResultT], attempts: int = 8
) -> ResultT:
    for number in range(1, attempts + 1):
        try:
            return attempt(table)
        except RETRYABLE as exc:
            if number == attempts:
                raise IcebergCommitError(
                    f"{action} on {'.'.join(table.name())} failed after {attempts} attempts: "
                    f"{exc}; run it again when fewer writers commit"
                ) from exc
            delay = min(10.0, 0.2 * 2 ** (number - 1)) * random.uniform(0.5, 1.5)
            logger.warning(
                "%s on %s failed (attempt %d of %d): %s; retrying in %.2f s",
                action, ".".join(table.name()), number, attempts, exc, delay,
            )  # fmt: skip
            time.sleep(delay)
            table = table.refresh()
    raise AssertionError("unreachable: the loop returns or raises")
