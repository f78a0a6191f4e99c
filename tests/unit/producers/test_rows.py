"""Checks and conversions of input rows, one kind of problem at a time."""

from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pytest

from producers.rows import (
    DEPARTURE_FORMATS,
    InputError,
    Reason,
    check_column_types,
    convert_batch,
)


def batch(**columns: pa.Array) -> pa.RecordBatch:
    base = {
        "date": pa.array([datetime(2001, 1, 1, 0, 1)] * 2, pa.timestamp("us")),
        "delay": pa.array([1, 2]),
        "distance": pa.array([10, 20]),
        "origin": pa.array(["ORD", "ATL"]),
        "destination": pa.array(["DFW", "MCO"]),
    }
    base.update(columns)
    return pa.record_batch(list(base.values()), names=list(base))


def convert(**columns: pa.Array) -> tuple[list[int], list[tuple[int, str, str]]]:
    rows, rejections = convert_batch(batch(**columns), np.array([10, 11], dtype=np.int64))
    return rows.row.tolist(), [(r.row, r.reason.label, r.error) for r in rejections]


def test_valid_rows_convert_exactly() -> None:
    rows, rejections = convert_batch(batch(), np.array([0, 1], dtype=np.int64))
    assert rejections == []
    assert rows.departure_ms.tolist() == [978_307_260_000, 978_307_260_000]
    assert rows.delay.tolist() == [1, 2]
    assert rows.delay_valid.tolist() == [True, True]
    assert rows.distance.tolist() == [10, 20]
    assert rows.origin.to_pylist() == ["ORD", "ATL"]


def test_microseconds_round_down_before_1970() -> None:
    dates = pa.array([datetime(1969, 12, 31, 23, 59, 59, 999_999), datetime(1970, 1, 1)])
    rows, _ = convert_batch(batch(date=dates.cast(pa.timestamp("us"))), np.arange(2))
    assert rows.departure_ms.tolist() == [-1, 0]


INT32_RANGE = "outside -2147483648 to 2147483647"
BAD_DATE = "date: not a date and time in one of the formats " + ", ".join(DEPARTURE_FORMATS)
TOO_EARLY_MS = -62_135_596_800_001
CASES = [
    ({"origin": pa.array(["ORD", None])}, (11, "missing_value", "origin: value is missing")),
    ({"destination": pa.array(["", "X"])}, (10, "missing_value", "destination: value is missing")),
    ({"distance": pa.array([10, None])}, (11, "missing_value", "distance: value is missing")),
    ({"distance": pa.array([10, -1])}, (11, "out_of_range", "distance: outside 0 to 2147483647")),
    ({"delay": pa.array([1, 2**31])}, (11, "out_of_range", f"delay: {INT32_RANGE}")),
    ({"delay": pa.array([1.5, 2.0])}, (10, "wrong_type", "delay: not an integer")),
    ({"delay": pa.array(["7", "x7"])}, (11, "wrong_type", "delay: not an integer")),
    ({"delay": pa.array(["1", "9" * 22])}, (11, "out_of_range", f"delay: {INT32_RANGE}")),
    ({"date": pa.array(["2001-01-01 00:01:00", "yesterday"])}, (11, "wrong_type", BAD_DATE)),
    (
        {"date": pa.array([datetime(2001, 1, 1), None], pa.timestamp("us"))},
        (11, "missing_value", "date: value is missing"),
    ),
    (
        {"date": pa.array([TOO_EARLY_MS, 0], pa.timestamp("ms"))},
        (10, "out_of_range", "date: outside the years 0001 to 9999"),
    ),
]


@pytest.mark.parametrize(("columns", "expected"), CASES)
def test_bad_value_rejected_with_reason(
    columns: dict[str, pa.Array], expected: tuple[int, str, str]
) -> None:
    rows, rejections = convert(**columns)
    assert rejections == [expected]
    assert rows == [11 if expected[0] == 10 else 10]


def test_null_delay_is_valid() -> None:
    rows, rejections = convert_batch(batch(delay=pa.array([None, 3])), np.arange(2))
    assert rejections == []
    assert rows.delay_valid.tolist() == [False, True]


def test_first_problem_of_row_wins() -> None:
    _, rejections = convert(delay=pa.array(["x", "1"]), origin=pa.array([None, "A"]))
    assert rejections == [(10, "wrong_type", "delay: not an integer")]


def test_text_and_date_columns_convert() -> None:
    rows, rejections = convert_batch(
        batch(
            date=pa.array([date(2001, 1, 2), date(1970, 1, 1)]),
            delay=pa.array(["-5", ""]),
            distance=pa.array(["12", "0"]),
        ),
        np.arange(2),
    )
    assert rejections == []
    assert rows.departure_ms.tolist() == [978_393_600_000, 0]
    assert rows.delay.tolist()[0] == -5
    assert rows.delay_valid.tolist() == [True, False]
    assert rows.distance.tolist() == [12, 0]


def test_rejection_payload_is_row_json() -> None:
    _, rejections = convert_batch(batch(delay=pa.array(["x", "1"])), np.arange(2))
    assert rejections[0].reason is Reason.WRONG_TYPE
    assert rejections[0].payload == (
        b'{"date": "2001-01-01 00:01:00", "delay": "x", "distance": 10, '
        b'"origin": "ORD", "destination": "DFW"}'
    )


def test_unusable_column_types_raise() -> None:
    with pytest.raises(InputError, match="has no column delay"):
        check_column_types(pa.schema([("date", pa.string()), ("origin", pa.string()),
                                      ("distance", pa.int64()), ("destination", pa.string())]),
                           "f.csv")  # fmt: skip
    zoned = batch(date=pa.array([0, 0], pa.timestamp("us", tz="UTC"))).schema
    with pytest.raises(InputError, match="column 'date' of f has type timestamp"):
        check_column_types(zoned, "f")
