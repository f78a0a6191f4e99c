"""`rtpath bench produce | job | sinks`: the benchmarks of the path, each against its peer."""

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from benchmarks.produce_settings import ProduceBenchSettings
from core.settings import Settings
from jobs.settings import JobSettings
from rtpath.commands.job import add_job_flags, job_overrides

logger = logging.getLogger(__name__)

SINKS = ("clickhouse", "iceberg")


def add_parser(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = groups.add_parser("bench", help="run the benchmarks of the path")
    commands = parser.add_subparsers(dest="command", required=True, metavar="BENCHMARK")
    _add_produce(commands)
    add_job_parser(commands)
    _add_sinks(commands)


def _add_produce(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    produce = commands.add_parser(
        "produce",
        help="Python Avro producer (1 and 2 processes), a pre-encoded loop and "
        "kafka-producer-perf-test, with the same producer settings",
    )
    produce.add_argument(
        "--events", type=int, help="events each producer sends (default 3000000, the whole file)"
    )
    produce.add_argument("--kafka-port", type=int, help="port of the local broker (default 9092)")
    produce.add_argument(
        "--partitions", type=int, help="partitions of the bench topics (default 6)"
    )
    produce.add_argument("--linger-ms", type=int, help="linger.ms (default 5)")
    produce.add_argument("--batch-size", type=int, help="batch.size in bytes (default 1000000)")
    produce.add_argument(
        "--compression", choices=["none", "gzip", "snappy", "lz4", "zstd"],
        help="compression.type (default none)",
    )  # fmt: skip
    produce.set_defaults(
        handler=run_bench_produce,
        settings_model=ProduceBenchSettings,
        settings_overrides=_overrides,
    )


def _add_sinks(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
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


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "events": args.events,
        "kafka_port": args.kafka_port,
        "partitions": args.partitions,
        "linger_ms": args.linger_ms,
        "batch_size": args.batch_size,
        "compression": args.compression,
    }


def run_bench_produce(settings: Settings, args: argparse.Namespace) -> int:
    from benchmarks.produce import format_table, run_benchmark

    assert isinstance(settings, ProduceBenchSettings)
    results = run_benchmark(settings)
    print(format_table(results))
    return 0


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


def add_job_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    job = commands.add_parser(
        "job", help="flights job: Kafka-fed vs datagen rows/s, Kafka-in to Kafka-out latency"
    )
    add_job_flags(job)
    job.add_argument("--rows", type=int, default=200_000, help="rows per throughput phase")
    job.add_argument(
        "--latency-seconds", type=float, default=20.0, help="duration of the latency phase"
    )
    job.add_argument(
        "--latency-rate", type=float, help="flights/s of the latency phase (default: half "
        "the Kafka-fed rate)",
    )  # fmt: skip
    job.add_argument("--skip-throughput", action="store_true", help="run the latency phase only")
    job.set_defaults(
        handler=run_job_benchmark, settings_model=JobSettings, settings_overrides=job_overrides
    )


def run_job_benchmark(settings: Settings, args: argparse.Namespace) -> int:
    from benchmarks import job as job_benchmark

    assert isinstance(settings, JobSettings)
    result = job_benchmark.run(
        settings, args.rows, args.latency_seconds, args.latency_rate, args.skip_throughput
    )
    print(job_benchmark.report(result, settings))
    return 0
