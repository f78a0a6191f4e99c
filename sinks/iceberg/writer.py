"""Commit batches to one Iceberg table with their Kafka offsets in the snapshot summary.

Exactly once rests on three rules applied at every commit attempt, against the table's
current snapshot:

1. Rows at or past a partition's stored offset only are written: rows below it were
   committed before, by this writer in an attempt whose outcome was unknown or by another
   writer that owned the partition. So a retried or duplicated commit adds nothing twice.
2. The data and the new offsets go into one snapshot (one transaction), so a crash leaves
   either both or neither.
3. A conflict with a concurrent commit reloads the table and repeats from rule 1, after a
   jittered exponential backoff.

Tables with identifier fields (`delays_by_airport_1m`: origin and window_start) are written
by upsert instead of append, so a window row that Flink emits again at a new offset replaces
the stored row instead of adding a second one. Duplicate keys inside one batch are reduced
to the row emitted last first.
"""

import logging
import random
import time
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    CommitFailedException,
    CommitStateUnknownException,
    ServerError,
    ServiceUnavailableError,
)
from pyiceberg.table import Table

from core.errors import RtpathError
from sinks.iceberg.offsets import (
    OFFSETS_PROPERTY,
    format_offsets,
    merge_offsets,
    stored_offsets,
)
from sinks.iceberg.tables import (
    KAFKA_OFFSET,
    KAFKA_PARTITION,
    RETRIES_PROPERTY,
    TableDefinition,
    is_marked_synthetic,
    synthetic_properties,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 10.0
# Errors after which the commit may be attempted again: a conflict, an outcome the catalog
# could not confirm (rule 1 makes repeating it safe) and a REST catalog that is unavailable.
RETRYABLE: tuple[type[Exception], ...] = (
    CommitFailedException,
    CommitStateUnknownException,
    ServiceUnavailableError,
    ServerError,
)
try:  # SQLite raises "database is locked" when another process holds the write lock.
    from sqlalchemy.exc import OperationalError

    RETRYABLE += (OperationalError,)
except ImportError:  # the sql extra of pyiceberg is not installed
    pass


class IcebergCommitError(RtpathError):
    """A commit to an Iceberg table failed on every attempt."""


@dataclass(frozen=True)
class CommitResult:
    """What one commit wrote."""

    rows: int
    """Rows written, after removing those committed before."""
    skipped: int
    """Rows dropped because their offsets were already stored."""
    attempts: int
    snapshot_id: int | None
    """Id of the new current snapshot, or None when there was nothing to commit."""


class TableWriter:
    """Write the rows of one Kafka topic to one Iceberg table."""

    def __init__(
        self,
        catalog: Catalog,
        namespace: str,
        spec: TableDefinition,
        topic: str,
        *,
        attempts: int,
        backoff_s: float,
    ) -> None:
        self.spec = spec
        self.topic = topic
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.table: Table = catalog.load_table((namespace, spec.name))
        self.name = ".".join(self.table.name())

    @property
    def arrow_schema(self) -> pa.Schema:
        return self.table.schema().as_arrow()

    def positions(self) -> dict[int, int]:
        """Reload the table and return the next offset to read per partition of the topic."""
        self.table = self.table.refresh()
        return stored_offsets(self.table).get(self.topic, {})

    def commit(self, rows: pa.Table, end_offsets: dict[int, int]) -> CommitResult:
        """Commit `rows` and advance the stored offsets of the topic to `end_offsets`.

        `rows` must have the table's Arrow schema; `end_offsets` maps each partition to the
        offset after its last message, including messages sent to the dead-letter topic.
        Raises `IcebergCommitError` after `attempts` failed attempts.
        """
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                self.table = self.table.refresh()
            try:
                return self._attempt(rows, end_offsets, attempt)
            except RETRYABLE as exc:
                if attempt == self.attempts:
                    raise IcebergCommitError(
                        f"commit of {rows.num_rows} rows to {self.name} failed after "
                        f"{attempt} attempts: {exc}; raise --iceberg-commit-attempts if "
                        "other writers commit to this table often"
                    ) from exc
                delay = min(MAX_BACKOFF_S, self.backoff_s * 2 ** (attempt - 1))
                delay *= random.uniform(0.5, 1.5)
                logger.warning(
                    "commit to %s failed (attempt %d of %d): %s: %s; retrying in %.2f s",
                    self.name, attempt, self.attempts, type(exc).__name__, exc, delay,
                )  # fmt: skip
                time.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    def _attempt(self, rows: pa.Table, end_offsets: dict[int, int], attempt: int) -> CommitResult:
        if self.table.properties.get(RETRIES_PROPERTY) != "0":
            raise IcebergCommitError(
                f"table {self.name} has {RETRIES_PROPERTY} = "
                f"{self.table.properties.get(RETRIES_PROPERTY)!r}, which lets pyiceberg replay a "
                "commit with stale offsets; set it to 0 (the sink does so when it starts)"
            )
        stored = stored_offsets(self.table)
        merged = merge_offsets(stored, {self.topic: end_offsets})
        fresh = drop_committed(rows, stored.get(self.topic, {}))
        skipped = rows.num_rows - fresh.num_rows
        if skipped:
            logger.warning(
                "%s: %d of %d rows were already committed (stored offsets %s); skipping them",
                self.name, skipped, rows.num_rows, stored.get(self.topic),
            )  # fmt: skip
        if merged == stored:
            return CommitResult(0, skipped, attempt, None)

        summary = {OFFSETS_PROPERTY: format_offsets(merged)}
        with self.table.transaction() as transaction:
            if self._needs_synthetic_mark(fresh):
                transaction.set_properties(synthetic_properties())
            if self.spec.key_columns and fresh.num_rows:
                latest = keep_latest_per_key(fresh, self.spec.key_columns)
                transaction.upsert(
                    latest, join_cols=self.spec.key_columns, snapshot_properties=summary
                )
            else:
                # An empty append still commits a snapshot, which stores offsets of batches
                # whose rows all went to the dead-letter topic.
                transaction.append(fresh, snapshot_properties=summary)
        snapshot = self.table.current_snapshot()
        return CommitResult(
            fresh.num_rows, skipped, attempt, snapshot.snapshot_id if snapshot else None
        )

    def _needs_synthetic_mark(self, rows: pa.Table) -> bool:
        if "is_synthetic" not in rows.column_names or is_marked_synthetic(self.table):
            return False
        return bool(pc.any(rows.column("is_synthetic")).as_py())


def drop_committed(rows: pa.Table, stored: dict[int, int]) -> pa.Table:
    """Return the rows whose offset is at or past the stored offset of their partition."""
    if not stored or rows.num_rows == 0:
        return rows
    keep = None
    for partition, offset in stored.items():
        stale = pc.and_(
            pc.equal(rows.column(KAFKA_PARTITION), partition),
            pc.less(rows.column(KAFKA_OFFSET), offset),
        )
        keep = pc.invert(stale) if keep is None else pc.and_(keep, pc.invert(stale))
    return rows.filter(keep)


def keep_latest_per_key(rows: pa.Table, keys: list[str]) -> pa.Table:
    """Return one row per key: the one with the latest `emitted_at`, then the highest offset."""
    tiebreak = [name for name in ("emitted_at", KAFKA_OFFSET) if name in rows.column_names]
    order = [(name, "ascending") for name in (*keys, *tiebreak)]
    ordered = rows.sort_by(order)
    if ordered.num_rows < 2:
        return ordered
    # After sorting by key, a row is the last of its key when the next row has another key.
    last = None
    for name in keys:
        column = ordered.column(name)
        differs = pc.not_equal(column.slice(0, len(column) - 1), column.slice(1))
        last = differs if last is None else pc.or_(last, differs)
    assert last is not None
    mask = pa.concat_arrays([pa.concat_arrays(last.chunks), pa.array([True])])
    return ordered.filter(mask)
