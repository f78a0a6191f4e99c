"""`rtpath bench sinks`: measure the ClickHouse and Iceberg sinks against a running broker."""

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from core.settings import Settings

logger = logging.getLogger(__name__)

SINKS = ("clickhouse", "iceberg")


def add_parser(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = groups.add_parser("bench", help="run the benchmarks of the path")
    commands = parser.add_subparsers(dest="command", required=True, metavar="BENCHMARK")

    sinks = commands.add_parser(
        "sinks",
        help="rows/s per core of each sink, ClickHouse insert latency and Iceberg commit cost",
    )
    sinks.add_argument(
        "--only", choices=SINKS, action="append",
        help="benchmark only this sink (repeatable; default: both)",
    )  # fmt: skip
    sinks.add_argument(
        "--rows", type=int, default=300_000, help="rows of each sink run (default 300000)"
    )
    sinks.add_argument(
        "--work-dir", type=Path, help="folder for the scratch stores (default: a temporary one)"
    )
    sinks.set_defaults(handler=run_sinks)


def run_sinks(settings: Settings, args: argparse.Namespace) -> int:
    """Run the sink benchmarks against `settings.bootstrap_servers` and print JSON results."""
    results: dict[str, Any] = {"bootstrap_servers": settings.bootstrap_servers}
    work_dir = args.work_dir.resolve() if args.work_dir else None
    # Each benchmark imports its sink only when it runs, so one sink's packages never slow
    # down the other's measurement.
    for name in args.only or SINKS:
        folder = work_dir / name if work_dir else None
        if name == "clickhouse":
            from benchmarks import sinks_clickhouse

            results.update(sinks_clickhouse.run(settings.bootstrap_servers, folder, args.rows))
        else:
            from benchmarks import sinks_iceberg

            results.update(sinks_iceberg.run(settings.bootstrap_servers, folder, args.rows))
    print(json.dumps(results, indent=2))
    return 0
