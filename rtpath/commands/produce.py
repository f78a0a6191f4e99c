"""`rtpath produce flights | airports`: send the input of the path into Kafka."""

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from core.settings import Settings
from producers.settings import AirportProducerSettings, FlightProducerSettings

logger = logging.getLogger(__name__)

# Exit code when any event or dead-letter record was not delivered.
EXIT_LOST = 1


def add_parser(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = groups.add_parser("produce", help="send flights or airports into Kafka as Avro")
    commands = parser.add_subparsers(dest="command", required=True, metavar="INPUT")

    flights = commands.add_parser(
        "flights",
        help="replay flights-3m.parquet (or --input) into the flights topic, open-loop",
        description="Replay a flights file into Kafka as Avro at a fixed rate. Rows that fail "
        "a check go to the dead-letter topic. Exit code 1 when any event was not delivered.",
    )
    flights.add_argument("--input", help="Parquet or CSV file (default: the cached dataset)")
    flights.add_argument("--topic", help="topic of the flight events (default flights)")
    flights.add_argument("--rate", type=float, help="events per second over all processes")
    flights.add_argument("--duration", type=float, help="seconds to send for")
    flights.add_argument("--count", type=int, help="events to send over all processes")
    flights.add_argument(
        "--loop", action="store_const", const=True,
        help="replay the file again, with new event ids, when it ends",
    )  # fmt: skip
    flights.add_argument("--processes", type=int, help="producer processes (default 1)")
    flights.add_argument(
        "--synthetic", action="store_const", const=True,
        help="sample events from the file's distributions instead of replaying its rows",
    )  # fmt: skip
    flights.add_argument("--seed", type=int, help="seed of --synthetic (default random)")
    flights.add_argument("--batch-rows", type=int, help="rows per batch (default 8192)")
    flights.add_argument(
        "--summary-json", metavar="FILE", help="write the run's totals to FILE as JSON"
    )
    _add_client_flags(flights)
    flights.set_defaults(
        handler=run_produce_flights,
        settings_model=FlightProducerSettings,
        settings_overrides=_flight_overrides,
    )

    airports = commands.add_parser(
        "airports",
        help="load airports.csv into the compacted airports topic, or publish one change",
    )
    airports.add_argument("--input", help="airports CSV (default: the cached airports.csv)")
    airports.add_argument("--topic", help="compacted airports topic (default airports)")
    airports.add_argument(
        "--update", nargs="+", metavar=("CODE", "FIELD=VALUE"),
        help="publish airport CODE with the fields changed, e.g. --update ORD city=Chicago",
    )  # fmt: skip
    _add_client_flags(airports)
    airports.set_defaults(
        handler=run_produce_airports,
        settings_model=AirportProducerSettings,
        settings_overrides=_airport_overrides,
    )


def _add_client_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kafka-port", type=int, help="port of the local broker (default 9092)")
    parser.add_argument("--linger-ms", type=int, help="linger.ms (default 5)")
    parser.add_argument("--batch-size", type=int, help="batch.size in bytes (default 1000000)")
    parser.add_argument(
        "--compression", choices=["none", "gzip", "snappy", "lz4", "zstd"],
        help="compression.type (default none)",
    )  # fmt: skip
    parser.add_argument(
        "--queue-full-timeout", type=float,
        help="seconds one send waits for room in a full local queue (default 30)",
    )  # fmt: skip
    parser.add_argument(
        "--flush-timeout", type=float, help="seconds to wait for deliveries on exit (default 30)"
    )
    parser.add_argument(
        "--progress-interval", type=float, help="seconds between progress lines (default 5)"
    )


def _client_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "kafka_port": args.kafka_port,
        "linger_ms": args.linger_ms,
        "batch_size": args.batch_size,
        "compression": args.compression,
        "queue_full_timeout_s": args.queue_full_timeout,
        "flush_timeout_s": args.flush_timeout,
        "progress_interval_s": args.progress_interval,
        "topic": args.topic,
        "input": args.input,
    }


def _flight_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        **_client_overrides(args),
        "rate": args.rate,
        "duration_s": args.duration,
        "count": args.count,
        "loop": args.loop,
        "processes": args.processes,
        "synthetic": args.synthetic,
        "seed": args.seed,
        "batch_rows": args.batch_rows,
    }


def _airport_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return _client_overrides(args)


def run_produce_flights(settings: Settings, args: argparse.Namespace) -> int:
    from producers.launcher import run_flights

    assert isinstance(settings, FlightProducerSettings)
    summary = run_flights(settings)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    for error in summary.errors:
        logger.error("%s", error)
    if summary.counters.lost or summary.errors:
        logger.error("%d events or dead-letter records were not delivered", summary.counters.lost)
        return EXIT_LOST
    return 0


def run_produce_airports(settings: Settings, args: argparse.Namespace) -> int:
    from producers.airports import load_airports, parse_changes, update_airport

    assert isinstance(settings, AirportProducerSettings)
    if args.update:
        code, *pairs = args.update
        update_airport(settings, code, parse_changes(pairs))
        return 0
    summary = load_airports(settings)
    if summary.lost:
        logger.error("%d airports were not delivered", summary.lost)
        return EXIT_LOST
    return 0
