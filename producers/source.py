"""Read a Parquet or CSV flights file in record batches, with bounded memory.

With several producer processes each one reads the whole file and keeps its share of the
rows: process k of P keeps the rows whose number is k modulo P. The shares are disjoint,
so event ids built from row numbers stay unique across processes. Each share also has
the same mix of airports and times as the whole file.

Row numbers count data rows from 0, header excluded. In a CSV file every line after the
header is one row, so the row number is the line number minus 2. Values spanning lines
(quoted newlines) are not supported: such a row splits and is rejected.
"""

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from producers.rows import (
    COLUMNS,
    MAX_PAYLOAD_BYTES,
    FlightRows,
    InputError,
    Int64Array,
    Reason,
    Rejection,
    check_column_types,
    convert_batch,
)

logger = logging.getLogger(__name__)

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv",)
CSV_BLOCK_BYTES = 4 << 20


@dataclass(frozen=True)
class Share:
    """The rows one producer process replays: those whose number is `index` modulo `count`."""

    index: int = 0
    count: int = 1

    def keep(self, rows: Int64Array) -> Int64Array:
        kept: Int64Array = rows % self.count == self.index
        return kept


@dataclass(frozen=True)
class SourceBatch:
    """Rows of one batch that passed the checks, and those that were rejected."""

    rows: FlightRows
    rejections: list[Rejection]


def file_tag(path: Path) -> str:
    """Return 8 hex digits of the BLAKE2b digest of the file, part of every event id."""
    digest = hashlib.blake2b(digest_size=4)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_input(path: Path) -> None:
    """Raise `InputError` unless `path` is a readable Parquet or CSV file with usable columns."""
    if not path.is_file():
        raise InputError(
            f"input file {path} not found; pass --input, or run `rtpath stack fetch` "
            "for the default flights-3m.parquet"
        )
    if path.suffix.lower() not in PARQUET_SUFFIXES + CSV_SUFFIXES:
        raise InputError(f"input file {path} has an unknown suffix; use a .parquet or .csv file")
    for _ in read_batches(path, batch_rows=1, share=Share(), header_only=True):
        pass


def read_batches(
    path: Path, batch_rows: int, share: Share, header_only: bool = False
) -> Iterator[SourceBatch]:
    """Yield the checked rows of this process's share of the file, one batch at a time."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return _read_parquet(path, batch_rows, share, header_only)
    return _read_csv(path, batch_rows, share, header_only)


def _read_parquet(
    path: Path, batch_rows: int, share: Share, header_only: bool
) -> Iterator[SourceBatch]:
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read {path} as Parquet: {exc}") from exc
    check_column_types(parquet.schema_arrow, str(path))
    if header_only:
        return
    start = 0
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=list(COLUMNS)):
        rows = np.arange(start, start + batch.num_rows, dtype=np.int64)
        start += batch.num_rows
        yield _convert_share(batch, rows, share, [])


class _RaggedRows:
    """Collect the CSV rows whose field count differs from the header's."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.pending: list[Rejection] = []

    def __call__(self, invalid: pa_csv.InvalidRow) -> str:
        if invalid.number is None:
            raise InputError("the CSV reader did not report a row number; read without threads")
        row = invalid.number - 2
        self.rows.append(row)
        if invalid.actual_columns < invalid.expected_columns:
            reason, detail = Reason.MISSING_COLUMN, "fewer"
        else:
            reason, detail = Reason.UNPARSEABLE_ROW, "more"
        error = (
            f"row has {invalid.actual_columns} fields, {detail} than the "
            f"{invalid.expected_columns} columns of the header"
        )
        payload = invalid.text.encode()[:MAX_PAYLOAD_BYTES]
        self.pending.append(Rejection(row, reason, error, payload))
        return "skip"

    def row_numbers(self, first_good: int, count: int) -> Int64Array:
        """Map the good rows first_good to first_good+count-1 to source row numbers.

        A good row is preceded by `first_good + i` good rows and by every ragged row whose
        number minus its position among the ragged rows is at most that count.
        """
        good = np.arange(first_good, first_good + count, dtype=np.int64)
        ragged = np.asarray(self.rows, dtype=np.int64)
        good_before_ragged = ragged - np.arange(len(ragged), dtype=np.int64)
        shifted: Int64Array = good + np.searchsorted(good_before_ragged, good, side="right")
        return shifted


def _read_csv(
    path: Path, batch_rows: int, share: Share, header_only: bool
) -> Iterator[SourceBatch]:
    ragged = _RaggedRows()
    try:
        header = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(use_threads=False, block_size=1 << 16),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=lambda _: "skip"),
        ).schema
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read {path} as CSV: {exc}") from exc
    check_column_types(pa.schema([(name, pa.string()) for name in header.names]), str(path))
    if header_only:
        return
    reader = pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(
            invalid_row_handler=ragged, ignore_empty_lines=False, newlines_in_values=False
        ),
        convert_options=pa_csv.ConvertOptions(
            include_columns=list(COLUMNS),
            column_types={name: pa.string() for name in COLUMNS},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    good = 0
    pending: list[Rejection] = []
    for record_batch in reader:
        rows = ragged.row_numbers(good, record_batch.num_rows)
        good += record_batch.num_rows
        pending, ragged.pending = ragged.pending, []
        for start in range(0, record_batch.num_rows, batch_rows):
            part = record_batch.slice(start, batch_rows)
            yield _convert_share(part, rows[start : start + part.num_rows], share, pending)
            pending = []
    pending += ragged.pending
    if pending:
        empty = pa.record_batch([pa.array([], pa.string())] * len(COLUMNS), names=list(COLUMNS))
        yield _convert_share(empty, np.zeros(0, dtype=np.int64), share, pending)


def _convert_share(
    batch: pa.RecordBatch, rows: Int64Array, share: Share, rejected: list[Rejection]
) -> SourceBatch:
    if share.count > 1:
        keep = share.keep(rows)
        batch = batch.filter(pa.array(keep))
        rows = rows[keep]
        rejected = [r for r in rejected if r.row % share.count == share.index]
    converted, rejections = convert_batch(batch, rows)
    return SourceBatch(converted, sorted(rejected + rejections, key=lambda r: r.row))
