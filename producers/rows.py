"""Check and convert input rows into the typed columns of a flight event.

A user file may have any Arrow types in its columns. `convert_batch` turns a record batch
into `FlightRows` (the rows that passed) and a list of `Rejection` (the rows that failed,
with the reason), all vectorized except for building the rejections themselves.
Column types that can never hold a valid value (a list, a timestamp with a time zone) make
the whole file unusable, so they raise `InputError` instead of rejecting every row.
"""

import enum
import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from core.errors import RtpathError

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Input column names, in the order problems are reported when a row has several.
COLUMNS = ("date", "delay", "distance", "origin", "destination")

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# Flink's TIMESTAMP(3) covers the years 0001 to 9999. The bounds are 0001-01-01T00:00 and
# 10000-01-01T00:00 in milliseconds since 1970-01-01T00:00.
DEPARTURE_MIN_MS, DEPARTURE_END_MS = -62_135_596_800_000, 253_402_300_800_000
# Formats tried, in order, for departure times read as text. None has a time zone because
# departure is the local wall-clock time of the origin airport.
DEPARTURE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
# Up to 18 digits always fit an int64; longer numbers are checked as out of range.
INTEGER_TEXT = r"^-?[0-9]{1,18}$"
LONG_INTEGER_TEXT = re.compile(r"^-?[0-9]+$")
# Raw rows copied into dead-letter records are cut to this many bytes.
MAX_PAYLOAD_BYTES = 10_000


class InputError(RtpathError):
    """The input file cannot be read as flights: it is missing, of an unknown kind or
    has a column that lacks or cannot hold the expected values."""


class Reason(enum.IntEnum):
    """Reason a row was rejected. `label` is the value of the dead-letter `reason` header."""

    MISSING_COLUMN = 1
    UNPARSEABLE_ROW = 2
    MISSING_VALUE = 3
    WRONG_TYPE = 4
    OUT_OF_RANGE = 5
    TOO_LARGE = 6

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Rejection:
    """One rejected input row: its source row number (0-based, header excluded) and why."""

    row: int
    reason: Reason
    error: str
    payload: bytes


@dataclass(frozen=True)
class FlightRows:
    """Typed columns of the rows that passed every check; `row` is the source row number."""

    row: Int64Array
    departure_ms: Int64Array
    origin: pa.Array
    destination: pa.Array
    delay: Int64Array
    delay_valid: BoolArray
    distance: Int64Array

    def __len__(self) -> int:
        return len(self.row)

    def filter(self, keep: BoolArray) -> "FlightRows":
        mask = pa.array(keep)
        return FlightRows(
            row=self.row[keep],
            departure_ms=self.departure_ms[keep],
            origin=self.origin.filter(mask),
            destination=self.destination.filter(mask),
            delay=self.delay[keep],
            delay_valid=self.delay_valid[keep],
            distance=self.distance[keep],
        )


class _Problems:
    """The first problem found in each row of a batch."""

    def __init__(self, size: int) -> None:
        self.reason = np.zeros(size, dtype=np.int8)
        self.message = np.full(size, -1, dtype=np.int16)
        self.messages: list[str] = []

    def add(self, rows: BoolArray, reason: Reason, message: str) -> None:
        new = rows & (self.reason == 0)
        if new.any():
            self.reason[new] = reason
            self.message[new] = len(self.messages)
            self.messages.append(message)

    @property
    def ok(self) -> BoolArray:
        ok: BoolArray = self.reason == 0
        return ok


def _plain(column: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        return column.dictionary_decode()
    return column


def _nulls(column: pa.Array) -> BoolArray:
    nulls: BoolArray = column.is_null().to_numpy(zero_copy_only=False)
    return nulls


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def check_column_types(schema: pa.Schema, source: str) -> None:
    """Raise `InputError` when a column is absent or of a type no value of it could pass."""
    absent = [name for name in COLUMNS if name not in schema.names]
    if absent:
        raise InputError(
            f"{source} has no column {', '.join(absent)}; a flights file needs the columns "
            f"{', '.join(COLUMNS)} (other columns are ignored)"
        )
    for name in COLUMNS:
        kind = schema.field(name).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if name == "date":
            usable = (
                (pa.types.is_timestamp(kind) and kind.tz is None)
                or pa.types.is_date(kind)
                or _is_text(kind)
            )
            expected = "a timestamp without time zone, a date or text"
        elif name in ("delay", "distance"):
            usable = pa.types.is_integer(kind) or pa.types.is_floating(kind) or _is_text(kind)
            expected = "an integer, a float with integral values or text"
        else:
            usable = _is_text(kind)
            expected = "text"
        if not usable:
            raise InputError(
                f"column {name!r} of {source} has type {kind}, but it must be {expected}; "
                "departure times are local wall-clock times, so time zones are rejected"
            )


def _departure_ms(column: pa.Array, problems: _Problems) -> Int64Array:
    column = _plain(column)
    missing = _nulls(column)
    kind = column.type
    if _is_text(kind):
        missing |= (pc.binary_length(column).to_numpy(zero_copy_only=False) == 0) & ~missing
        parsed = None
        for fmt in DEPARTURE_FORMATS:
            attempt = pc.strptime(column, format=fmt, unit="ms", error_is_null=True)
            parsed = attempt if parsed is None else pc.coalesce(parsed, attempt)
        assert parsed is not None
        wrong = _nulls(parsed) & ~missing
        problems.add(missing, Reason.MISSING_VALUE, "date: value is missing")
        problems.add(
            wrong, Reason.WRONG_TYPE,
            f"date: not a date and time in one of the formats {', '.join(DEPARTURE_FORMATS)}",
        )  # fmt: skip
        values = parsed.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    else:
        problems.add(missing, Reason.MISSING_VALUE, "date: value is missing")
        if pa.types.is_date32(kind):
            raw = column.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
            values = raw.astype(np.int64) * 86_400_000
        elif pa.types.is_date64(kind):
            values = column.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        else:
            ticks = column.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
            per_ms = {"s": 0, "ms": 1, "us": 1_000, "ns": 1_000_000}[kind.unit]
            # Integer floor division, so times before 1970 round down like fastavro does.
            values = ticks * 1000 if per_ms == 0 else ticks // per_ms
    outside = (values < DEPARTURE_MIN_MS) | (values >= DEPARTURE_END_MS)
    problems.add(outside, Reason.OUT_OF_RANGE, "date: outside the years 0001 to 9999")
    departure: Int64Array = values.astype(np.int64)
    return departure


def _integers(
    column: pa.Array, name: str, low: int, high: int, required: bool, problems: _Problems
) -> tuple[Int64Array, BoolArray]:
    """Convert a column to int64; return the values and a mask of the rows with a value."""
    column = _plain(column)
    missing = _nulls(column)
    kind = column.type
    size = len(column)
    values = np.zeros(size, dtype=np.int64)
    wrong = np.zeros(size, dtype=np.bool_)
    outside = np.zeros(size, dtype=np.bool_)

    if _is_text(kind):
        missing |= (pc.binary_length(column).to_numpy(zero_copy_only=False) == 0) & ~missing
        fits = pc.match_substring_regex(column, INTEGER_TEXT).fill_null(False)
        fits_mask = fits.to_numpy(zero_copy_only=False)
        long_text = ~fits_mask & ~missing
        for i in np.flatnonzero(long_text):
            text = column[int(i)].as_py()
            if LONG_INTEGER_TEXT.match(text):
                outside[i] = True
            else:
                wrong[i] = True
        parsed = pc.if_else(fits, column, "0").cast(pa.int64())
        values = parsed.fill_null(0).to_numpy(zero_copy_only=False)
    elif pa.types.is_floating(kind):
        floats = column.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        missing |= np.isnan(floats)
        finite = np.isfinite(floats)
        in_int64 = finite & (np.abs(floats) < 2.0**63)
        outside = ~missing & ~in_int64
        wrong = ~missing & in_int64 & (np.floor(floats) != floats)
        values = np.where(in_int64 & ~wrong, floats, 0).astype(np.int64)
    elif pa.types.is_uint64(kind):
        unsigned = column.fill_null(0).to_numpy(zero_copy_only=False)
        outside = unsigned > np.uint64(2**63 - 1)
        values = np.where(outside, 0, unsigned).astype(np.int64)
    else:
        values = column.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)

    outside |= ~missing & ~wrong & ((values < low) | (values > high))
    if required:
        problems.add(missing, Reason.MISSING_VALUE, f"{name}: value is missing")
    problems.add(wrong, Reason.WRONG_TYPE, f"{name}: not an integer")
    problems.add(outside, Reason.OUT_OF_RANGE, f"{name}: outside {low} to {high}")
    result: Int64Array = values.astype(np.int64)
    present: BoolArray = ~missing
    return result, present


def _codes(column: pa.Array, name: str, problems: _Problems) -> pa.Array:
    column = _plain(column).cast(pa.string())
    empty = pc.equal(pc.binary_length(column), 0).fill_null(True)
    problems.add(
        empty.to_numpy(zero_copy_only=False), Reason.MISSING_VALUE, f"{name}: value is missing"
    )
    return column.fill_null("")


def convert_batch(batch: pa.RecordBatch, rows: Int64Array) -> tuple[FlightRows, list[Rejection]]:
    """Convert one batch. `rows` contains the source row number of each row of `batch`."""
    problems = _Problems(batch.num_rows)
    departure = _departure_ms(batch.column("date"), problems)
    delay, delay_valid = _integers(
        batch.column("delay"), "delay", INT32_MIN, INT32_MAX, False, problems
    )
    distance, _ = _integers(batch.column("distance"), "distance", 0, INT32_MAX, True, problems)
    origin = _codes(batch.column("origin"), "origin", problems)
    destination = _codes(batch.column("destination"), "destination", problems)
    converted = FlightRows(rows, departure, origin, destination, delay, delay_valid, distance)

    ok = problems.ok
    if ok.all():
        return converted, []
    rejections = [
        Rejection(
            row=int(rows[i]),
            reason=Reason(int(problems.reason[i])),
            error=problems.messages[problems.message[i]],
            payload=row_payload(_raw_row(batch, int(i))),
        )
        for i in np.flatnonzero(~ok)
    ]
    return converted.filter(ok), rejections


def _raw_row(batch: pa.RecordBatch, index: int) -> dict[str, Any]:
    """Return the values of one row; a time Python cannot hold is given as its raw ticks."""
    values: dict[str, Any] = {}
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        cell = column.slice(index, 1)
        try:
            values[name] = cell.to_pylist()[0]
        except (OverflowError, ValueError):
            values[name] = cell.cast(pa.int64()).to_pylist()[0]
    return values


def row_payload(values: dict[str, Any]) -> bytes:
    """Return a row as JSON text for a dead-letter record, cut to `MAX_PAYLOAD_BYTES`."""
    text = json.dumps(values, default=str, ensure_ascii=False).encode()
    return text[:MAX_PAYLOAD_BYTES]
