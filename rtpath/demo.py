"""`rtpath demo`: run the whole path on the real flights, measure it, and stop it again.

The demo owns a data folder of its own (`DATA_DIR/demo`, emptied at start), so its counts
cover exactly one run. It starts a Kafka broker, the Flink job, both sinks with the query
API, and a producer replaying `flights-3m.parquet` at a fixed rate. Every process it starts is
stopped on success, on failure and on Ctrl-C.
"""

import json
import logging
import time
from pathlib import Path
from typing import Any

from benchmarks.observe import QuerySampler, freshness_ms, percentiles, window_lag_ms
from benchmarks.path import PathConfig, RunningPath
from rtpath.demo_settings import DemoSettings

logger = logging.getLogger(__name__)


def run_demo(settings: DemoSettings, report_json: Path | None) -> dict[str, Any]:
    """Run the path once and return the report; also write it to `report_json` if given."""
    logger.info(
        "demo starting: %.0f events/s for %.0f s (warm-up %.0f s), data %s, Kafka port %d, "
        "query API port %d", settings.rate, settings.duration_s, settings.warmup_s,
        settings.demo_dir, settings.kafka_port, settings.api_port,
    )  # fmt: skip
    config = PathConfig(
        settings=settings,
        data_dir=settings.demo_dir,
        api_port=settings.api_port,
        flink_rest_port=settings.flink_rest_port,
        iceberg_commit_interval_s=settings.iceberg_commit_interval_s,
    )
    with RunningPath(config) as path:
        started_ms = int(time.time() * 1000)
        producer, summary = path.start_producer(
            ["--rate", str(settings.rate), "--duration", str(settings.duration_s)]
        )
        sampler = QuerySampler(path.api.base_url, settings.query_interval_s)
        sampler.start()
        try:
            path.watch(producer, settings.progress_interval_s)
        finally:
            sampler.stop()
        ended_ms = int(time.time() * 1000)
        produced = path.finish_producer(producer, summary)

        delivered = int(produced["delivered"])
        clickhouse, iceberg = path.drain(delivered, settings.drain_timeout_s)
        measured_from = started_ms + int(settings.warmup_s * 1000)
        report = {
            "events_produced": delivered,
            "rows_clickhouse": clickhouse["rows"],
            "rows_iceberg": iceberg["rows"],
            "distinct_event_ids_clickhouse": clickhouse["distinct_event_ids"],
            "distinct_event_ids_iceberg": iceberg["distinct_event_ids"],
            "windows_clickhouse": clickhouse["windows"],
            "windows_iceberg": iceberg["windows"],
            "freshness_ms": freshness_ms(path.api, measured_from, ended_ms),
            # Windows close once a minute, so every window that closed during the run
            # counts, warm-up included.
            "window_lag_ms": window_lag_ms(path.api, started_ms, ended_ms),
            "query_ms": percentiles(sampler.latencies_ms),
            "query_errors": sampler.errors,
            "events_per_second": produced["events_per_second"],
            "delivery_latency_ms": produced["delivery_latency_ms"],
            "events_rejected": produced["rejected"],
            "events_lost": produced["lost"],
            "settings": {
                "rate": settings.rate,
                "duration_s": settings.duration_s,
                "warmup_s": settings.warmup_s,
                "partitions": settings.partitions,
                "iceberg_commit_interval_s": settings.iceberg_commit_interval_s,
                "query_interval_s": settings.query_interval_s,
                "data_dir": str(settings.demo_dir),
            },
        }

    if report_json is not None:
        report_json.write_text(json.dumps(report, indent=2) + "\n")
    _print_report(report)
    return report


def _format(distribution: dict[str, Any]) -> str:
    if not distribution.get("count"):
        return "no samples"
    return (
        f"p50 {distribution['p50']:.1f}, p95 {distribution['p95']:.1f}, "
        f"p99 {distribution['p99']:.1f}, max {distribution['max']:.1f} ms "
        f"over {distribution['count']:,}"
    )


def _print_report(report: dict[str, Any]) -> None:
    exact = (
        report["rows_clickhouse"] == report["events_produced"] == report["rows_iceberg"]
        and report["distinct_event_ids_clickhouse"] == report["events_produced"]
        and report["distinct_event_ids_iceberg"] == report["events_produced"]
    )
    print("\nrtpath demo report")
    print(f"  events produced      {report['events_produced']:,} "
          f"({report['events_per_second']:,.0f} events/s)")  # fmt: skip
    print(f"  rows in ClickHouse   {report['rows_clickhouse']:,} "
          f"({report['distinct_event_ids_clickhouse']:,} distinct event ids)")  # fmt: skip
    print(f"  rows in Iceberg      {report['rows_iceberg']:,} "
          f"({report['distinct_event_ids_iceberg']:,} distinct event ids)")  # fmt: skip
    print(f"  windows (ClickHouse) {report['windows_clickhouse']:,}")
    print(f"  every event once     {'yes' if exact else 'NO'}")
    print(f"  freshness            {_format(report['freshness_ms'])}")
    print(f"  window lag           {_format(report['window_lag_ms'])}")
    print(f"  dashboard queries    {_format(report['query_ms'])}, errors {report['query_errors']}")
