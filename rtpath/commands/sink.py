"""`rtpath sink clickhouse | iceberg`: land Flink's output topics in the stores."""

import argparse
import logging
import signal
import threading
from types import FrameType
from typing import Any

from core.settings import Settings
from rtpath.commands import iceberg
from sinks.clickhouse.settings import ClickHouseSinkSettings
from sinks.clickhouse.sink import ClickHouseSink

logger = logging.getLogger(__name__)


def add_parser(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = groups.add_parser("sink", help="land Flink's output topics in ClickHouse or Iceberg")
    commands = parser.add_subparsers(dest="command", required=True, metavar="SINK")
    add_clickhouse_parser(commands)
    iceberg.add_sink_parser(commands)


def add_clickhouse_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    sink = commands.add_parser(
        "clickhouse",
        help="land flights_enriched and delays_by_airport_1m in ClickHouse (chDB by default)",
    )
    sink.add_argument(
        "--clickhouse-url",
        help="URL of a ClickHouse server over HTTP (default: chDB on DATA_DIR/clickhouse)",
    )

    sink.add_argument("--database", help="ClickHouse database of the tables (default rtpath)")
    sink.add_argument("--flights-topic", help="topic read into flights_enriched")
    sink.add_argument("--windows-topic", help="topic read into delays_by_airport_1m")
    sink.add_argument("--group-id", help="Kafka consumer group (default rtpath-sink-clickhouse)")

    sink.add_argument(
        "--batch-rows", type=int, help="rows of one topic that trigger an insert (default 20000)"
    )
    sink.add_argument(
        "--flush-interval-ms", type=int,
        help="insert buffered rows at most this many ms after the first was read (default 50)",
    )  # fmt: skip
    sink.add_argument(
        "--insert-attempts", type=int,
        help="attempts per insert on transient ClickHouse errors (default 6)",
    )  # fmt: skip
    sink.add_argument(
        "--start-when-empty", choices=["earliest", "latest"],
        help="where to start a partition that has no rows in ClickHouse yet (default earliest)",
    )  # fmt: skip
    sink.add_argument(
        "--stop-at-end", action="store_true", default=None,
        help="exit once the topics are stored up to their end offsets at start",
    )  # fmt: skip

    sink.set_defaults(
        handler=run_clickhouse, settings_model=ClickHouseSinkSettings,
        settings_overrides=_clickhouse_overrides,
    )  # fmt: skip


def _clickhouse_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "clickhouse_url": args.clickhouse_url,
        "clickhouse_database": args.database,
        "clickhouse_flights_topic": args.flights_topic,
        "clickhouse_windows_topic": args.windows_topic,
        "clickhouse_group_id": args.group_id,
        "clickhouse_batch_rows": args.batch_rows,
        "clickhouse_flush_interval_ms": args.flush_interval_ms,
        "clickhouse_insert_attempts": args.insert_attempts,
        "clickhouse_start_when_empty": args.start_when_empty,
        "clickhouse_stop_at_end": args.stop_at_end,
    }


def run_clickhouse(settings: Settings, args: argparse.Namespace) -> int:
    assert isinstance(settings, ClickHouseSinkSettings)
    ClickHouseSink(settings).run(_stop_on_signals("inserting buffered rows"))
    return 0


def _stop_on_signals(action: str) -> threading.Event:
    """Return an event that SIGTERM and SIGINT set, for a graceful stop."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s: %s, then stopping", signal.Signals(signum).name, action)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop
