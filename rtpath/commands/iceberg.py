"""`rtpath sink iceberg` and `rtpath iceberg maintain`: the Iceberg sink and its upkeep."""

import argparse
import logging
import re
import signal
import threading
from datetime import date, timedelta
from types import FrameType
from typing import Any

from core.errors import ConfigError
from core.settings import Settings
from sinks.iceberg.settings import TABLE_NAMES, IcebergSettings

logger = logging.getLogger(__name__)

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_sink_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `iceberg` to the subcommands of `rtpath sink`."""
    sink = commands.add_parser(
        "iceberg", help="land flights_enriched and delays_by_airport_1m in Iceberg tables"
    )
    _add_catalog_flags(sink)

    sink.add_argument(
        "--tables", type=_table_list,
        help=f"comma-separated tables to write (default: {','.join(TABLE_NAMES)})",
    )  # fmt: skip
    sink.add_argument("--kafka-port", type=int, help="port of the local broker (default 9092)")
    sink.add_argument("--flights-topic", help="topic read into flights_enriched")
    sink.add_argument("--windows-topic", help="topic read into delays_by_airport_1m")
    sink.add_argument("--group-id", help="Kafka consumer group (default rtpath-sink-iceberg)")

    sink.add_argument(
        "--commit-interval", type=float, metavar="SECONDS",
        help="commit rows at the latest this many seconds after the first was read (default 30)",
    )  # fmt: skip
    sink.add_argument(
        "--commit-rows", type=int, help="commit a table once this many rows wait (default 100000)"
    )
    sink.add_argument(
        "--commit-attempts", type=int, help="attempts per commit on conflicts (default 8)"
    )

    sink.add_argument(
        "--synthetic", action="store_true", default=None,
        help="mark both tables as holding synthetic data",
    )  # fmt: skip
    sink.add_argument(
        "--stop-at-end", action="store_true", default=None,
        help="exit once the topics are stored up to their end offsets at start",
    )  # fmt: skip
    sink.set_defaults(
        handler=run_sink, settings_model=IcebergSettings, settings_overrides=_sink_overrides
    )


def add_parser(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `rtpath iceberg` group."""
    parser = groups.add_parser("iceberg", help="maintain the Iceberg tables")
    commands = parser.add_subparsers(dest="command", required=True, metavar="ACTION")
    maintain_parser = commands.add_parser(
        "maintain", help="expire old snapshots and compact the small files of day partitions"
    )
    _add_catalog_flags(maintain_parser)
    maintain_parser.add_argument(
        "--table", action="append", choices=TABLE_NAMES,
        help="table to maintain (repeatable; default: both)",
    )  # fmt: skip
    maintain_parser.add_argument(
        "--expire-older-than", type=parse_duration, metavar="AGE",
        help="expire snapshots older than AGE, such as 90s, 30m, 12h or 7d",
    )  # fmt: skip
    maintain_parser.add_argument(
        "--compact-day", action="append", type=date.fromisoformat, metavar="YYYY-MM-DD",
        help="compact the files of this UTC day partition (repeatable)",
    )  # fmt: skip
    maintain_parser.add_argument(
        "--compact-all", action="store_true",
        help="compact every day partition that has more than one data file",
    )  # fmt: skip
    maintain_parser.set_defaults(
        handler=run_maintain, settings_model=IcebergSettings, settings_overrides=_catalog_overrides
    )


def _add_catalog_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--iceberg-catalog",
        help="pyiceberg catalog name from .pyiceberg.yaml or PYICEBERG_CATALOG__* variables "
        "(default: SQLite catalog under DATA_DIR/iceberg)",
    )
    parser.add_argument("--iceberg-namespace", help="namespace of the tables (default rtpath)")


def _catalog_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"iceberg_catalog": args.iceberg_catalog, "iceberg_namespace": args.iceberg_namespace}


def _sink_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        **_catalog_overrides(args),
        "kafka_port": args.kafka_port,
        "iceberg_tables": args.tables,
        "iceberg_flights_topic": args.flights_topic,
        "iceberg_windows_topic": args.windows_topic,
        "iceberg_group_id": args.group_id,
        "iceberg_commit_interval_s": args.commit_interval,
        "iceberg_commit_rows": args.commit_rows,
        "iceberg_commit_attempts": args.commit_attempts,
        "iceberg_synthetic": args.synthetic,
        "iceberg_stop_at_end": args.stop_at_end,
    }


def _table_list(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in TABLE_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"invalid table list {text!r}; use one or both of {', '.join(TABLE_NAMES)}"
        )
    return names


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as `90s`, `30m`, `12h` or `7d`."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r}; use a whole number with s, m, h or d, such as 12h"
        )
    return timedelta(seconds=int(match.group(1)) * DURATION_UNITS[match.group(2)])


def run_sink(settings: Settings, args: argparse.Namespace) -> int:
    from sinks.iceberg.sink import IcebergSink

    assert isinstance(settings, IcebergSettings)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s: committing buffered rows, then stopping",
                    signal.Signals(signum).name)  # fmt: skip
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    IcebergSink(settings).run(stop)
    return 0


def run_maintain(settings: Settings, args: argparse.Namespace) -> int:
    from sinks.iceberg import maintain
    from sinks.iceberg.catalog import open_catalog
    from sinks.iceberg.tables import definition, ensure_table

    assert isinstance(settings, IcebergSettings)
    if args.expire_older_than is None and not args.compact_day and not args.compact_all:
        raise ConfigError(
            "nothing to do; give --expire-older-than AGE, --compact-day YYYY-MM-DD or --compact-all"
        )
    catalog = open_catalog(settings)
    for name in args.table or TABLE_NAMES:
        if not catalog.table_exists((settings.iceberg_namespace, name)):
            print(f"{name}: not found in namespace {settings.iceberg_namespace}, skipped")
            continue
        spec = definition(name)
        table = ensure_table(catalog, settings.iceberg_namespace, name)
        days = list(args.compact_day or [])
        if args.compact_all:
            counts = maintain.day_file_counts(table, spec)
            days += [day for day, files in sorted(counts.items()) if files > 1]
        for day in dict.fromkeys(days):
            result = maintain.compact_day(table, spec, day)
            print(
                f"{table.name()[-1]} {day.isoformat()}: {result.files_before} -> "
                f"{result.files_after} data files, {result.rows} rows rewritten"
            )
        if args.expire_older_than is not None:
            expired = maintain.expire_snapshots(table, args.expire_older_than)
            print(f"{table.name()[-1]}: expired {expired.expired} snapshots, {expired.kept} kept")
    return 0
