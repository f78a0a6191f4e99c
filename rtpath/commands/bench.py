"""`rtpath bench produce | job | sinks | e2e | locust`: the benchmarks of the path."""

import argparse
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.e2e_settings import E2eSettings, LocustSettings
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
    _add_e2e(commands)
    _add_locust(commands)


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


def _add_path_flags(parser: argparse.ArgumentParser) -> None:
    """Add the flags of a path that the benchmark starts for itself."""
    parser.add_argument("--kafka-port", type=int, help="port of the path's broker (default 9092)")
    parser.add_argument("--api-port", type=int, help="port of the query API (default 8124)")
    parser.add_argument(
        "--flink-rest-port", type=int, help="port of the Flink REST API (default 8081)"
    )
    parser.add_argument("--partitions", type=int, help="partitions per topic (default 6)")
    parser.add_argument(
        "--out", type=Path,
        help="output folder (default DATA_DIR/bench/<benchmark>-<UTC timestamp>)",
    )  # fmt: skip


def _path_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "kafka_port": args.kafka_port,
        "api_port": args.api_port,
        "flink_rest_port": args.flink_rest_port,
        "partitions": args.partitions,
        "out": args.out,
    }


def _out_dir(settings: E2eSettings | LocustSettings, benchmark: str) -> Path:
    if settings.out is not None:
        return settings.out.resolve()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return (settings.data_dir / "bench" / f"{benchmark}-{stamp}").resolve()


def _add_e2e(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    e2e = commands.add_parser(
        "e2e",
        help="the whole path under open-loop steps of increasing rate: freshness, window "
        "lag, dashboard query latency, against Kafka's EndToEndLatency",
        description="Start the path under DATA_DIR/bench/e2e-path (emptied first), preload "
        "the stores, then offer each rate for a warm-up and a measured interval until the "
        "path stops keeping up. Writes results.json, summary.md and PNG plots.",
    )
    _add_path_flags(e2e)
    e2e.add_argument(
        "--preload-rows", type=int,
        help="rows to store before the steps, replayed at full speed; 0 skips the preload "
        "(default 10000000, or RTPATH_PRELOAD_ROWS)",
    )  # fmt: skip
    e2e.add_argument(
        "--rates", help="offered events/s of the steps, increasing, comma-separated "
        "(default 2000,5000,10000,20000,50000)",
    )  # fmt: skip
    e2e.add_argument("--warmup", type=float, help="seconds of warm-up per step (default 20)")
    e2e.add_argument("--measure", type=float, help="measured seconds per step (default 60)")
    e2e.add_argument(
        "--target-ms", type=float, help="target of both p99 latencies in ms (default 200)"
    )
    e2e.add_argument(
        "--lag-limit", type=float,
        help="seconds of events ClickHouse may trail, or the job's lag may grow, before a "
        "step counts as not sustained (default 2)",
    )  # fmt: skip
    e2e.add_argument(
        "--kafka-latency-messages", type=int,
        help="messages of Kafka's EndToEndLatency run (default 5000)",
    )  # fmt: skip
    e2e.set_defaults(handler=run_e2e, settings_model=E2eSettings, settings_overrides=_e2e_overrides)


def _e2e_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        **_path_overrides(args),
        "preload_rows": args.preload_rows,
        "rates": args.rates,
        "warmup_s": args.warmup,
        "measure_s": args.measure,
        "target_ms": args.target_ms,
        "lag_limit_s": args.lag_limit,
        "kafka_latency_messages": args.kafka_latency_messages,
    }


def run_e2e(settings: Settings, args: argparse.Namespace) -> int:
    """Run the end-to-end benchmark, write its outputs and print the summary."""
    from benchmarks import e2e, e2e_report

    assert isinstance(settings, E2eSettings)
    out_dir = _out_dir(settings, "e2e")
    results = e2e.run_e2e(settings, out_dir)
    e2e_report.write_outputs(results, out_dir)
    print(e2e_report.format_summary(results))
    print(f"outputs in {out_dir}")
    return 0


def _add_locust(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    locust = commands.add_parser(
        "locust",
        help="run benchmarks/locustfile.py headless: Kafka producer users and dashboard users",
        description="Run Locust headless for --duration seconds against the query API at "
        "--api-url and the Kafka broker of --kafka-bootstrap, or against a path it starts "
        "under DATA_DIR/bench/locust-path when --api-url is not given. Writes Locust's CSV "
        "and HTML reports into the output folder.",
    )
    _add_path_flags(locust)
    locust.add_argument("--duration", type=float, help="seconds Locust runs (default 60)")
    locust.add_argument(
        "--users", type=int, help="users, spread evenly over both user types (default 4)"
    )
    locust.add_argument("--spawn-rate", type=float, help="users started per second (default 4)")
    locust.add_argument(
        "--api-url", help="URL of a running query API; Kafka is then --kafka-bootstrap or the "
        "local broker on --kafka-port",
    )  # fmt: skip
    locust.add_argument("--topic", help="topic the Kafka users send to (default flights)")
    locust.add_argument(
        "--events-per-user", type=float,
        help="events per second of each Kafka producer user (default 1000)",
    )  # fmt: skip
    locust.set_defaults(
        handler=run_locust, settings_model=LocustSettings, settings_overrides=_locust_overrides
    )


def _locust_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        **_path_overrides(args),
        "duration_s": args.duration,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "api_url": args.api_url,
        "topic": args.topic,
        "events_per_user": args.events_per_user,
    }


def run_locust(settings: Settings, args: argparse.Namespace) -> int:
    """Run Locust headless; exit 1 when any request failed."""
    from benchmarks.locust_run import LocustRun, format_stats
    from benchmarks.locust_run import run_locust as run

    assert isinstance(settings, LocustSettings)
    out_dir = _out_dir(settings, "locust")

    def locust_run(api_url: str, bootstrap: str) -> LocustRun:
        return LocustRun(
            api_url=api_url, bootstrap_servers=bootstrap, out_dir=out_dir,
            duration_s=settings.duration_s, users=settings.users,
            spawn_rate=settings.spawn_rate, topic=settings.topic,
            events_per_user=settings.events_per_user,
        )  # fmt: skip

    if settings.api_url is not None:
        code, rows = run(locust_run(settings.api_url, settings.bootstrap_servers))
    else:
        from benchmarks.path import PathConfig, RunningPath

        config = PathConfig(
            settings=settings,
            data_dir=settings.data_dir / "bench" / "locust-path",
            api_port=settings.api_port,
            flink_rest_port=settings.flink_rest_port,
            iceberg_commit_interval_s=settings.iceberg_commit_interval_s,
        )
        with RunningPath(config) as path:
            code, rows = run(locust_run(path.api.base_url, path.bootstrap))
    print(format_stats(rows))
    print(f"reports in {out_dir}")
    if code != 0:
        logger.error("Locust exited with code %d: some requests failed; see %s", code, out_dir)
        return 1
    return 0
