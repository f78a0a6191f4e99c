"""Reading files: row numbers around ragged CSV rows, and process shares."""

from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from producers import source
from producers.rows import InputError
from producers.source import Share, read_batches


def read_all(path: Path, share: Share | None = None) -> tuple[list[int], list[tuple[int, str]]]:
    rows: list[int] = []
    rejected: list[tuple[int, str]] = []
    for batch in read_batches(path, 3, share or Share()):
        rows += batch.rows.row.tolist()
        rejected += [(r.row, r.reason.label) for r in batch.rejections]
    return rows, rejected


def test_csv_rows_keep_numbers_around_ragged_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small blocks make the reader report ragged rows across several batches.
    monkeypatch.setattr(source, "CSV_BLOCK_BYTES", 64)
    lines = ["date,delay,distance,origin,destination"]
    bad = {3, 4, 11, 17}
    for row in range(20):
        if row in bad:
            lines.append(f"2001-01-01,{row}" + (",1,2,3,4" if row == 11 else ""))
        else:
            lines.append(f"2001-01-01,{row},{row},ORD,DFW")
    path = tmp_path / "f.csv"
    path.write_text("\n".join(lines) + "\n")

    rows, rejected = read_all(path)

    assert rows == [row for row in range(20) if row not in bad]
    assert sorted(rejected) == [
        (3, "missing_column"), (4, "missing_column"), (11, "unparseable_row"),
        (17, "missing_column"),
    ]  # fmt: skip
    for batch in read_batches(path, 100, Share()):
        assert batch.rows.delay.tolist() == batch.rows.row.tolist()


def test_shares_split_rows_modulo_processes(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    pq.write_table(
        pa.table(
            {
                "date": pa.array([datetime(2001, 1, 1)] * 10, pa.timestamp("us")),
                "delay": list(range(10)),
                "distance": [1] * 10,
                "origin": ["A"] * 10,
                "destination": ["B"] * 10,
            }
        ),
        path,
    )
    shares = [read_all(path, Share(k, 3))[0] for k in range(3)]
    assert shares == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]


def test_unknown_suffix_and_missing_file_raise(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        source.check_input(tmp_path / "absent.parquet")
    other = tmp_path / "f.json"
    other.write_text("{}")
    with pytest.raises(InputError, match="unknown suffix"):
        source.check_input(other)


def test_row_numbers_skip_ragged_rows() -> None:
    ragged = source._RaggedRows()
    ragged.rows = [1, 2, 5]
    assert ragged.row_numbers(0, 5).tolist() == [0, 3, 4, 6, 7]
    assert np.array_equal(ragged.row_numbers(2, 1), [4])
