from dataclasses import replace

import pytest

from benchmarks.sizing import SizingInput, SizingPlan, human_bytes, plan

BASE = SizingInput(
    events_per_second=250_000,
    bytes_per_event=40,
    retention_days=7,
    producer_events_per_core=100_000,
    flink_events_per_core=50_000,
    clickhouse_rows_per_core=200_000,
    iceberg_rows_per_core=300_000,
    clickhouse_bytes_per_row=20,
    iceberg_bytes_per_row=15,
    utilization=0.5,
    partition_bytes_per_second=5_000_000,
    replication_factor=3,
)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (
            BASE,
            SizingPlan(
                producer_processes=5,
                flink_parallelism=10,
                clickhouse_sink_consumers=3,
                iceberg_sink_consumers=2,
                partitions=10,
                cores=20,
                kafka_bytes=18_144_000_000_000,
                clickhouse_bytes_per_year=157_680_000_000_000,
                iceberg_bytes_per_year=118_260_000_000_000,
            ),
        ),
        (
            SizingInput(
                events_per_second=10_000,
                bytes_per_event=100,
                retention_days=1,
                producer_events_per_core=50_000,
                flink_events_per_core=40_000,
                clickhouse_rows_per_core=60_000,
                iceberg_rows_per_core=80_000,
                clickhouse_bytes_per_row=30,
                iceberg_bytes_per_row=10,
                utilization=1.0,
                partition_bytes_per_second=1_000_000,
                replication_factor=1,
            ),
            SizingPlan(
                producer_processes=1,
                flink_parallelism=1,
                clickhouse_sink_consumers=1,
                iceberg_sink_consumers=1,
                partitions=1,
                cores=4,
                kafka_bytes=86_400_000_000,
                clickhouse_bytes_per_year=9_460_800_000_000,
                iceberg_bytes_per_year=3_153_600_000_000,
            ),
        ),
        (
            # Bytes, not consumers, decide the partitions: 250,000 x 400 B / 5 MB/s = 20.
            replace(BASE, bytes_per_event=400),
            SizingPlan(
                producer_processes=5,
                flink_parallelism=10,
                clickhouse_sink_consumers=3,
                iceberg_sink_consumers=2,
                partitions=20,
                cores=20,
                kafka_bytes=181_440_000_000_000,
                clickhouse_bytes_per_year=157_680_000_000_000,
                iceberg_bytes_per_year=118_260_000_000_000,
            ),
        ),
    ],
    ids=["target-rate", "small-rate", "bytes-bound-partitions"],
)
def test_plan_cases(size: SizingInput, expected: SizingPlan) -> None:
    assert plan(size) == expected


def test_exact_multiple_not_rounded_up() -> None:
    # 140,000 / (100,000 x 0.7) is 2 exactly; float error must not make it 3.
    size = replace(BASE, events_per_second=140_000, utilization=0.7)
    assert plan(size).producer_processes == 2


def test_zero_retention_needs_no_kafka_storage() -> None:
    assert plan(replace(BASE, retention_days=0)).kafka_bytes == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("events_per_second", 0, "events_per_second must be positive"),
        ("flink_events_per_core", -1, "flink_events_per_core must be positive"),
        ("utilization", 1.5, "utilization must be in"),
        ("retention_days", -1, "retention_days must not be negative"),
    ],
)
def test_invalid_input_rejected(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(BASE, **{field: value})


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0.00 B"), (1536, "1.50 KiB"), (18_144_000_000_000, "16.50 TiB"), (2**60, "1024.00 PiB")],
)
def test_human_bytes(count: float, text: str) -> None:
    assert human_bytes(count) == text
