"""Turn measured per-core rates into a deployment size for a target event rate.

Every stage scales out on its own: producer processes, Kafka partitions, Flink
parallelism, sink consumers in one group. So each count is the target rate divided by what
one core of that stage sustains, at a planned utilization that leaves headroom.
"""

import math
from dataclasses import dataclass

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class SizingInput:
    """The target load and the measured rates it is sized from."""

    events_per_second: float
    bytes_per_event: float
    retention_days: float
    producer_events_per_core: float
    flink_events_per_core: float
    clickhouse_rows_per_core: float
    iceberg_rows_per_core: float
    clickhouse_bytes_per_row: float
    iceberg_bytes_per_row: float
    utilization: float = 0.7
    partition_bytes_per_second: float = 5_000_000.0
    replication_factor: int = 3

    def __post_init__(self) -> None:
        for name in (
            "events_per_second", "bytes_per_event", "producer_events_per_core",
            "flink_events_per_core", "clickhouse_rows_per_core", "iceberg_rows_per_core",
            "partition_bytes_per_second",
        ):  # fmt: skip
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 < self.utilization <= 1:
            raise ValueError(f"utilization must be in (0, 1], got {self.utilization}")
        if self.retention_days < 0:
            raise ValueError(f"retention_days must not be negative, got {self.retention_days}")


@dataclass(frozen=True)
class SizingPlan:
    """Counts and storage that sustain the target rate at the planned utilization."""

    producer_processes: int
    flink_parallelism: int
    clickhouse_sink_consumers: int
    iceberg_sink_consumers: int
    partitions: int
    cores: int
    kafka_bytes: float
    clickhouse_bytes_per_year: float
    iceberg_bytes_per_year: float


def _instances(rate: float, per_core: float, utilization: float) -> int:
    # A small epsilon keeps 10.000000001 from becoming 11 through float error.
    return max(1, math.ceil(rate / (per_core * utilization) - 1e-9))


def plan(size: SizingInput) -> SizingPlan:
    """Size every stage for `size.events_per_second`, one core per process or task slot."""
    eps = size.events_per_second
    producers = _instances(eps, size.producer_events_per_core, size.utilization)
    flink = _instances(eps, size.flink_events_per_core, size.utilization)
    clickhouse = _instances(eps, size.clickhouse_rows_per_core, size.utilization)
    iceberg = _instances(eps, size.iceberg_rows_per_core, size.utilization)
    # Enough partitions for the bytes per second, and at least one per consumer of the
    # widest consuming stage, because a partition feeds one consumer of a group at a time.
    by_bytes = math.ceil(eps * size.bytes_per_event / size.partition_bytes_per_second - 1e-9)
    partitions = max(by_bytes, flink, clickhouse, iceberg)
    seconds_per_year = SECONDS_PER_DAY * DAYS_PER_YEAR
    return SizingPlan(
        producer_processes=producers,
        flink_parallelism=flink,
        clickhouse_sink_consumers=clickhouse,
        iceberg_sink_consumers=iceberg,
        partitions=partitions,
        cores=producers + flink + clickhouse + iceberg,
        kafka_bytes=eps
        * size.bytes_per_event
        * SECONDS_PER_DAY
        * size.retention_days
        * size.replication_factor,
        clickhouse_bytes_per_year=eps * seconds_per_year * size.clickhouse_bytes_per_row,
        iceberg_bytes_per_year=eps * seconds_per_year * size.iceberg_bytes_per_row,
    )


def human_bytes(count: float) -> str:
    """Format a byte count with a binary unit, e.g. 1.50 TiB."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(count) < 1024 or unit == "PiB":
            return f"{count:.2f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")
