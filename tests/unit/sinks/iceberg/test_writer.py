"""Row selection done before a commit: rows already stored and duplicate window keys."""

from datetime import UTC, datetime

import pyarrow as pa

from sinks.iceberg.writer import drop_committed, keep_latest_per_key


def test_drop_committed_filters_by_partition() -> None:
    rows = pa.table({
        "kafka_partition": pa.array([0, 0, 1, 1, 2], pa.int32()),
        "kafka_offset": pa.array([4, 5, 9, 10, 0], pa.int64()),
    })  # fmt: skip
    remaining = drop_committed(rows, {0: 5, 1: 10})
    assert remaining.to_pylist() == [
        {"kafka_partition": 0, "kafka_offset": 5},
        {"kafka_partition": 1, "kafka_offset": 10},
        {"kafka_partition": 2, "kafka_offset": 0},
    ]
    assert drop_committed(rows, {}).num_rows == 5


def test_keep_latest_per_key() -> None:
    start = datetime(2023, 11, 14, 22, 14, tzinfo=UTC)
    later = datetime(2023, 11, 14, 22, 15, tzinfo=UTC)
    rows = pa.table({
        "origin": ["ORD", "SFO", "ORD", "ORD", "SFO"],
        "window_start": [start, start, start, later, start],
        "emitted_at": [1, 5, 3, 1, 5],
        "kafka_offset": pa.array([0, 1, 2, 3, 4], pa.int64()),
    })  # fmt: skip
    remaining = keep_latest_per_key(rows, ["origin", "window_start"])
    assert remaining.column("kafka_offset").to_pylist() == [2, 3, 4]
    assert keep_latest_per_key(rows.slice(0, 1), ["origin"]).num_rows == 1
