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

    sink.add_argument("--kafka-port", type=int, help="port of the local broker (default 9092)")
    sink.add_argument("--database", help="ClickHouse database of the tables (default rtpath)")
    sink.add_argument("--flights-topic", help="topic read into flights_enriched")
    sink.add_argument("--windows-topic", help="topic read into delays_by_airport_1m")
    sink.add_argument("--group-id", help="Kafka consumer group (default rtpath-sink-clickhouse)")
    sink.add_argument(
        "--consumer-option", action="append", type=_option, metavar="KEY=VALUE",
        help="librdkafka consumer option, such as group.instance.id=sink-1 (repeatable)",
    )  # fmt: skip

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
    sink.add_argument(
        "--api-port", type=int,
        help="also serve the read-only query API on 127.0.0.1:PORT from this process, which "
        "is how dashboards reach an embedded chDB store (default: no API)",
    )  # fmt: skip

    sink.set_defaults(
        handler=run_clickhouse, settings_model=ClickHouseSinkSettings,
        settings_overrides=_clickhouse_overrides,
    )  # fmt: skip


def _clickhouse_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "kafka_port": args.kafka_port,
        "clickhouse_url": args.clickhouse_url,
        "clickhouse_database": args.database,
        "clickhouse_flights_topic": args.flights_topic,
        "clickhouse_windows_topic": args.windows_topic,
        "clickhouse_group_id": args.group_id,
        "clickhouse_consumer_options": dict(args.consumer_option) if args.consumer_option else None,
        "clickhouse_batch_rows": args.batch_rows,
        "clickhouse_flush_interval_ms": args.flush_interval_ms,
        "clickhouse_insert_attempts": args.insert_attempts,
        "clickhouse_start_when_empty": args.start_when_empty,
        "clickhouse_stop_at_end": args.stop_at_end,
    }


def _option(text: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key.strip():
        raise argparse.ArgumentTypeError(
            f"invalid consumer option {text!r}; use KEY=VALUE, such as session.timeout.ms=10000"
        )
    return key.strip(), value


def run_clickhouse(settings: Settings, args: argparse.Namespace) -> int:
    from dashboards.server import ApiServer, serve_api
    from dashboards.store import chdb_client_factory, http_client_factory
    from sinks.clickhouse.sink import ClickHouseSink

    assert isinstance(settings, ClickHouseSinkSettings)
    servers: list[ApiServer] = []

    def start_api() -> None:
        # chDB lets one process open its folder, so the API runs in the sink's process
        # with a client of its own, started once the sink has created the tables.
        if args.api_port is None:
            return
        if settings.clickhouse_url is None:
            factory = chdb_client_factory(settings.clickhouse_dir, settings.clickhouse_database)
            backend = "chdb"
        else:
            factory = http_client_factory(settings.clickhouse_url, settings.clickhouse_database)
            backend = "http"
        servers.append(serve_api(factory, "127.0.0.1", args.api_port, backend=backend))

    try:
        ClickHouseSink(settings).run(_stop_on_signals("inserting buffered rows"), start_api)
    finally:
        for server in servers:
            server.stop()
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
