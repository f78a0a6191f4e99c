"""`rtpath demo`: run the whole path on the real flights, measure it, and stop it again.

The demo owns a data folder of its own (`DATA_DIR/demo`, emptied at start), so its counts
cover exactly one run: a Kafka broker, the Flink job, both sinks with the query API, and a
producer replaying `flights-3m.parquet` at a fixed rate. Every process it starts is
stopped on success, on failure and on Ctrl-C.
"""

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.observe import (
    ApiClient,
    QuerySampler,
    clickhouse_counts,
    end_offsets,
    freshness_ms,
    iceberg_counts,
    window_lag_ms,
)
from core import topics
from core.errors import RtpathError
from rtpath.demo_settings import DemoSettings
from rtpath.supervisor import Supervisor
from stack import artifacts
from stack.broker import LocalBroker
from stack.topics import design_topics, ensure_topics

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 180.0


class DemoError(RtpathError):
    """The demo could not run the path to the end."""


def run_demo(settings: DemoSettings, report_json: Path | None) -> dict[str, Any]:
    """Run the path once and return the report; also write it to `report_json` if given."""
    cache = settings.cache_path
    demo_dir = settings.demo_dir
    logger.info(
        "demo starting: %.0f events/s for %.0f s (warm-up %.0f s), data %s, Kafka port %d, "
        "query API port %d", settings.rate, settings.duration_s, settings.warmup_s, demo_dir,
        settings.kafka_port, settings.api_port,
    )  # fmt: skip
    artifacts.fetch(cache)
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    child_env = {
        "RTPATH_DATA_DIR": str(demo_dir),
        "RTPATH_CACHE_DIR": str(cache),
        "RTPATH_KAFKA_PORT": str(settings.kafka_port),
        "RTPATH_KAFKA_CONTROLLER_PORT": str(settings.controller_port),
        "RTPATH_LOG_LEVEL": settings.log_level,
    }
    broker = LocalBroker(settings.model_copy(update={"data_dir": demo_dir, "cache_dir": cache}))
    state, _ = broker.up()
    bootstrap = state.address
    api = ApiClient(f"http://127.0.0.1:{settings.api_port}")
    try:
        ensure_topics(bootstrap, design_topics(settings.partitions))
        with Supervisor(demo_dir / "logs") as supervisor:
            airports = supervisor.start("produce-airports", ["produce", "airports"], child_env)
            if supervisor.wait(airports, READY_TIMEOUT_S) != 0:
                raise DemoError(f"loading airports failed:\n{airports.log_tail()}")

            supervisor.start("job", ["job", "run", "--rest-port", str(settings.flink_rest_port)],
                             child_env)  # fmt: skip
            supervisor.start("sink-clickhouse",
                             ["sink", "clickhouse", "--api-port", str(settings.api_port)],
                             child_env)  # fmt: skip
            supervisor.start("sink-iceberg", ["sink", "iceberg"], {
                **child_env,
                "RTPATH_ICEBERG_COMMIT_INTERVAL_S": str(settings.iceberg_commit_interval_s),
            })  # fmt: skip
            _wait_until_ready(supervisor, api, settings.flink_rest_port)

            summary_path = demo_dir / "producer-summary.json"
            started_ms = int(time.time() * 1000)
            producer = supervisor.start("produce-flights", [
                "produce", "flights", "--rate", str(settings.rate),
                "--duration", str(settings.duration_s), "--summary-json", str(summary_path),
            ], child_env)  # fmt: skip
            sampler = QuerySampler(api.base_url, settings.query_interval_s)
            sampler.start()
            try:
                _watch(supervisor, producer, api, bootstrap, settings)
            finally:
                sampler.stop()
            ended_ms = int(time.time() * 1000)
            if supervisor.wait(producer, READY_TIMEOUT_S) != 0:
                raise DemoError(f"the producer failed:\n{producer.log_tail()}")
            produced = json.loads(summary_path.read_text())

            delivered = int(produced["delivered"])
            clickhouse, iceberg = _drain(supervisor, api, demo_dir, delivered, settings)
            measured_from = started_ms + int(settings.warmup_s * 1000)
            report = {
                "events_produced": delivered,
                "rows_clickhouse": clickhouse["rows"],
                "rows_iceberg": iceberg["rows"],
                "distinct_event_ids_clickhouse": clickhouse["distinct_event_ids"],
                "distinct_event_ids_iceberg": iceberg["distinct_event_ids"],
                "windows_clickhouse": clickhouse["windows"],
                "windows_iceberg": iceberg["windows"],
                "freshness_ms": freshness_ms(api, measured_from, ended_ms),
                "window_lag_ms": window_lag_ms(api, measured_from, ended_ms),
                "query_ms": _percentiles(sampler.latencies_ms),
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
                    "data_dir": str(demo_dir),
                },
            }
    finally:
        api.close()
        broker.down()

    if report_json is not None:
        report_json.write_text(json.dumps(report, indent=2) + "\n")
    _print_report(report)
    return report


def _percentiles(values: list[float]) -> dict[str, float | int | None]:
    from benchmarks.observe import percentiles

    return percentiles(values)


def _wait_until_ready(supervisor: Supervisor, api: ApiClient, rest_port: int) -> None:
    """Wait until the Flink job runs and the query API answers its health check."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    job_running = api_ready = False
    while not (job_running and api_ready):
        supervisor.check()
        if time.monotonic() > deadline:
            raise DemoError(
                f"not ready after {READY_TIMEOUT_S:.0f} s: Flink job running={job_running}, "
                f"query API healthy={api_ready}; see the logs in {supervisor.log_dir}"
            )
        job_running = job_running or _flink_job_running(rest_port)
        api_ready = api_ready or api.healthy()
        time.sleep(0.5)
    logger.info("Flink job running and query API healthy")


def _flink_job_running(rest_port: int) -> bool:
    """Tell whether a Flink job runs with every task deployed, Python functions included."""
    base = f"http://127.0.0.1:{rest_port}"
    try:
        overview = httpx.get(f"{base}/jobs/overview", timeout=5)
        if overview.status_code != 200:
            return False
        for job in overview.json().get("jobs", []):
            if job["state"] != "RUNNING":
                continue
            details = httpx.get(f"{base}/jobs/{job['jid']}", timeout=5).json()
            vertices = details.get("vertices", [])
            if vertices and all(v["status"] == "RUNNING" for v in vertices):
                return True
    except (httpx.HTTPError, ValueError):
        return False
    return False


def _watch(supervisor: Supervisor, producer: Any, api: ApiClient, bootstrap: str,
           settings: DemoSettings) -> None:  # fmt: skip
    """Log progress until the producer exits; fail early when another process dies."""
    next_progress = time.monotonic() + settings.progress_interval_s
    while producer.process.poll() is None:
        for child in supervisor.children:
            if child is not producer and child.process.poll() is not None:
                raise DemoError(
                    f"{child.name} exited with code {child.process.returncode}:\n{child.log_tail()}"
                )
        if time.monotonic() >= next_progress:
            _log_progress(api, bootstrap)
            next_progress += settings.progress_interval_s
        time.sleep(0.2)


def _log_progress(api: ApiClient, bootstrap: str) -> None:
    try:
        produced = end_offsets(bootstrap, topics.FLIGHTS)
        enriched = end_offsets(bootstrap, topics.FLIGHTS_ENRICHED)
        stored = clickhouse_counts(api)["rows"]
        now_ms = int(time.time() * 1000)
        recent = freshness_ms(api, now_ms - 10_000, now_ms)
    except RtpathError as exc:
        logger.warning("progress not available: %s", exc)
        return
    p99 = recent["p99"]
    logger.info(
        "progress: flights %d, enriched %d (lag %d), ClickHouse %d (lag %d), "
        "freshness p99 over the last 10 s %s",
        produced, enriched, produced - enriched, stored, enriched - stored,
        "n/a" if p99 is None else f"{p99:.0f} ms",
    )  # fmt: skip


def _drain(supervisor: Supervisor, api: ApiClient, demo_dir: Path, delivered: int,
           settings: DemoSettings) -> tuple[dict[str, int], dict[str, int]]:  # fmt: skip
    """Wait until ClickHouse and Iceberg hold every delivered event, or the timeout passes."""
    deadline = time.monotonic() + settings.drain_timeout_s
    while True:
        supervisor.check()
        clickhouse = clickhouse_counts(api)
        iceberg = iceberg_counts(str(demo_dir), str(settings.cache_path))
        if clickhouse["rows"] >= delivered and iceberg["rows"] >= delivered:
            return clickhouse, iceberg
        if time.monotonic() > deadline:
            logger.error(
                "stores incomplete after %.0f s: %d events delivered, ClickHouse %d rows, "
                "Iceberg %d rows", settings.drain_timeout_s, delivered, clickhouse["rows"],
                iceberg["rows"],
            )  # fmt: skip
            return clickhouse, iceberg
        logger.info("draining: %d events delivered, ClickHouse %d rows, Iceberg %d rows",
                    delivered, clickhouse["rows"], iceberg["rows"])  # fmt: skip
        time.sleep(2.0)


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
