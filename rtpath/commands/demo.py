"""`rtpath demo`: the whole path on the real flights, from an empty data folder to a report."""

import argparse
from pathlib import Path
from typing import Any

from core.settings import Settings
from rtpath.demo_settings import DemoSettings


def add_parser(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = groups.add_parser(
        "demo",
        help="run broker, Flink job, both sinks and a producer on the real flights, then report",
        description="Start every stage of the path under DATA_DIR/demo (emptied first), replay "
        "the real flights at --rate for --duration, print a report and stop everything.",
    )
    parser.add_argument("--duration", type=float, help="seconds the producer replays (default 60)")
    parser.add_argument("--rate", type=float, help="events per second (default 10000)")
    parser.add_argument("--warmup", type=float, help="seconds left out of freshness (default 20)")
    parser.add_argument("--kafka-port", type=int, help="port of the demo's broker (default 9092)")
    parser.add_argument("--api-port", type=int, help="port of the query API (default 8124)")
    parser.add_argument(
        "--flink-rest-port", type=int, help="port of the Flink REST API (default 8081)"
    )
    parser.add_argument("--partitions", type=int, help="partitions per topic (default 6)")
    parser.add_argument("--report-json", type=Path, help="write the report to this JSON file")
    parser.set_defaults(handler=run, settings_model=DemoSettings, settings_overrides=_overrides)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "duration_s": args.duration,
        "rate": args.rate,
        "warmup_s": args.warmup,
        "kafka_port": args.kafka_port,
        "api_port": args.api_port,
        "flink_rest_port": args.flink_rest_port,
        "partitions": args.partitions,
    }


def run(settings: Settings, args: argparse.Namespace) -> int:
    from rtpath.demo import run_demo

    assert isinstance(settings, DemoSettings)
    report = run_demo(settings, args.report_json)
    complete = (
        report["rows_clickhouse"] == report["events_produced"] == report["rows_iceberg"]
        and report["distinct_event_ids_clickhouse"] == report["events_produced"]
        and report["distinct_event_ids_iceberg"] == report["events_produced"]
    )
    return 0 if complete and report["events_lost"] == 0 else 1
