"""`rtpath size`: deployment sizing from the measured per-core rates."""

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.sizing import SizingInput, human_bytes, plan
from core.errors import ConfigError
from core.settings import Settings

# Per-core rates and bytes per stored row measured by `rtpath bench ...` on the reference
# machine; the file names the command and date of each figure.
MEASURED_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "measured.json"

RATE_FLAGS = {
    "producer_events_per_core": "events/s one producer process sends",
    "flink_events_per_core": "events/s one Flink task slot enriches and aggregates",
    "clickhouse_rows_per_core": "rows/s one ClickHouse sink consumer inserts",
    "iceberg_rows_per_core": "rows/s one Iceberg sink consumer commits",
    "clickhouse_bytes_per_row": "bytes one enriched row takes in ClickHouse, compressed",
    "iceberg_bytes_per_row": "bytes one enriched row takes in Iceberg Parquet, compressed",
}


def add_parser(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = groups.add_parser(
        "size", help="size partitions, processes and storage for a target event rate"
    )
    parser.add_argument("--events-per-second", type=float, default=250_000.0,
                        help="target rate of the whole path (default 250000)")  # fmt: skip
    parser.add_argument("--bytes-per-event", type=float, default=None,
                        help="bytes of one Avro event on Kafka (default: measured)")  # fmt: skip
    parser.add_argument("--retention-days", type=float, default=7.0,
                        help="days Kafka keeps the flights topic (default 7)")  # fmt: skip
    parser.add_argument("--utilization", type=float, default=0.7,
                        help="planned CPU utilization per core, 0 to 1 (default 0.7)")  # fmt: skip
    parser.add_argument("--replication-factor", type=int, default=3,
                        help="Kafka replication factor (default 3)")  # fmt: skip
    parser.add_argument("--partition-bytes-per-second", type=float, default=5_000_000.0,
                        help="planned write rate per Kafka partition (default 5 MB/s)")  # fmt: skip
    for name, text in RATE_FLAGS.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=float, help=f"{text} (default: measured)"
        )
    parser.set_defaults(handler=run_size)


def load_measured(path: Path = MEASURED_PATH) -> dict[str, Any]:
    """Return the measured figures, each a mapping with `value`, `command` and `date`."""
    try:
        measured: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from exc
    return measured


def run_size(settings: Settings, args: argparse.Namespace) -> int:
    measured = load_measured()
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    for name in [*RATE_FLAGS, "bytes_per_event"]:
        given = getattr(args, name)
        if given is not None:
            values[name], sources[name] = given, "flag"
        elif name in measured:
            entry = measured[name]
            values[name] = float(entry["value"])
            sources[name] = f"measured {entry['date']}: {entry['command']}"
        else:
            flag = f"--{name.replace('_', '-')}"
            raise ConfigError(
                f"no measured value for {name} in {MEASURED_PATH}; pass {flag} "
                "or run the benchmarks to record one"
            )
    try:
        size = SizingInput(
            events_per_second=args.events_per_second,
            retention_days=args.retention_days,
            utilization=args.utilization,
            replication_factor=args.replication_factor,
            partition_bytes_per_second=args.partition_bytes_per_second,
            **values,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    result = plan(size)

    print(f"Sizing for {size.events_per_second:,.0f} events/s at {size.utilization:.0%} CPU")
    print("\nAssumptions:")
    for name in [*RATE_FLAGS, "bytes_per_event"]:
        print(f"  {name} = {values[name]:,.1f}  ({sources[name]})")
    print(f"  retention_days = {size.retention_days:g}")
    print(f"  replication_factor = {size.replication_factor}")
    print(f"  partition_bytes_per_second = {size.partition_bytes_per_second:,.0f}")
    print("  one core per producer process, Flink task slot and sink consumer")
    print("\nPlan:")
    print(f"  producer processes         {result.producer_processes}")
    print(f"  Kafka partitions (flights) {result.partitions}")
    print(f"  Flink parallelism          {result.flink_parallelism}")
    print(f"  ClickHouse sink consumers  {result.clickhouse_sink_consumers}")
    print(f"  Iceberg sink consumers     {result.iceberg_sink_consumers}")
    print(f"  cores in all               {result.cores}")
    print(f"  Kafka storage              {human_bytes(result.kafka_bytes)}")
    print(f"  ClickHouse storage / year  {human_bytes(result.clickhouse_bytes_per_year)}")
    print(f"  Iceberg storage / year     {human_bytes(result.iceberg_bytes_per_year)}")
    return 0
