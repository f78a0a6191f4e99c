"""`rtpath bench e2e`: the whole path under open-loop steps of increasing rate.

Inside one `RunningPath` the benchmark:

1. runs Kafka's EndToEndLatency on the path's broker, the broker-only floor;
2. optionally preloads ClickHouse and Iceberg by replaying the flights file at full speed
   (`--loop`) until both hold `preload_rows` rows, so queries run against a full table;
3. runs one step per offered rate: a producer at that rate for the warm-up plus the
   measured interval, dashboard queries through the API during the measured interval,
   then, once both stores hold every event, the same queries with ingest stopped;
4. stops after the first step that did not sustain its rate (see `benchmarks.e2e_steps`).

Freshness and window lag come from SQL over every row of the measured interval, computed
after the stores have drained, so a row that arrived late counts with its full delay.
"""

import logging
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.e2e_settings import E2eSettings
from benchmarks.e2e_steps import (
    Backlog,
    LagRule,
    StepVerdict,
    highest_passing_rate,
    judge_step,
    unsustained_reasons,
)
from benchmarks.kafka_latency import run_end_to_end_latency
from benchmarks.observe import (
    QuerySampler,
    clickhouse_rows,
    freshness_ms,
    freshness_quantiles_ms,
    iceberg_rows,
    percentiles,
    window_lag_ms,
)
from benchmarks.path import PathConfig, PathError, RunningPath
from core import topics
from stack.supervisor import Supervised
from stack.topics import end_offsets

logger = logging.getLogger(__name__)

# Quantile levels of the freshness CDF stored per step: every percent, then the tail.
CDF_LEVELS = (*(i / 100 for i in range(101)), 0.995, 0.999, 0.9999)
FIRST_EVENT_TIMEOUT_S = 120.0
# The producer runs this much longer than warm-up plus measurement, so it is still sending
# at the end of the measured interval although it starts a moment before its first event.
PRODUCER_MARGIN_S = 3.0


def run_e2e(settings: E2eSettings, out_dir: Path) -> dict[str, Any]:
    """Run the benchmark and return its results. `out_dir` is only recorded in the log."""
    started_at = datetime.now(UTC)
    config = PathConfig(
        settings=settings,
        data_dir=settings.data_dir / "bench" / "e2e-path",
        api_port=settings.api_port,
        flink_rest_port=settings.flink_rest_port,
        iceberg_commit_interval_s=settings.iceberg_commit_interval_s,
    )
    rule = LagRule(settings.lag_limit_s, settings.min_rate_fraction)
    logger.info(
        "end-to-end benchmark: rates %s events/s, warm-up %.0f s, measured %.0f s, preload "
        "%d rows, target p99 %.0f ms; output in %s",
        ", ".join(f"{r:g}" for r in settings.rates), settings.warmup_s, settings.measure_s,
        settings.preload_rows, settings.target_ms, out_dir,
    )  # fmt: skip
    with RunningPath(config) as path:
        kafka_floor = run_end_to_end_latency(
            path.bootstrap, settings.cache_path, settings.kafka_latency_messages,
            settings.kafka_latency_message_bytes,
        )  # fmt: skip
        preload = _preload(path, settings) if settings.preload_rows else None
        steps: list[dict[str, Any]] = []
        for rate in settings.rates:
            step = _run_step(path, settings, rule, rate)
            steps.append(step)
            if not step["sustained"]:
                logger.warning(
                    "stopping after %g events/s: %s", rate, "; ".join(step["unsustained_reasons"])
                )
                break
        totals = {
            "events_produced": end_offsets(path.bootstrap, topics.FLIGHTS),
            "rows_clickhouse": clickhouse_rows(path.api),
            "rows_iceberg": iceberg_rows(str(path.data_dir), str(path.cache)),
        }

    verdicts = [
        StepVerdict(step["rate"], step["sustained"], step["freshness_pass"], step["query_pass"])
        for step in steps
    ]
    return {
        "started_at": started_at.isoformat(timespec="seconds"),
        "command": " ".join(["rtpath", *sys.argv[1:]]),
        "machine": _machine(),
        "settings": settings.model_dump(mode="json"),
        "target_ms": settings.target_ms,
        "kafka_end_to_end_latency": kafka_floor,
        "preload": preload,
        "steps": steps,
        "highest_passing_rate": highest_passing_rate(verdicts),
        "totals": totals,
    }


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def _backlog(path: RunningPath) -> Backlog:
    # Downstream first: every count only grows, so reading a stage after the ones it feeds
    # keeps each lag at or above its value at the first reading.
    stored = clickhouse_rows(path.api)
    enriched = end_offsets(path.bootstrap, topics.FLIGHTS_ENRICHED)
    produced = end_offsets(path.bootstrap, topics.FLIGHTS)
    return Backlog(produced=produced, enriched=enriched, stored=stored)


def _preload(path: RunningPath, settings: E2eSettings) -> dict[str, Any]:
    """Replay the flights file at full speed until both stores hold `preload_rows` rows."""
    target = settings.preload_rows
    logger.info("preload: sending %d events at full speed", target)
    started = time.monotonic()
    producer, summary = path.start_producer(["--count", str(target), "--loop"])
    while producer.process.poll() is None:
        _sleep_checked(path, settings.progress_interval_s, producer)
        _log_preload(path, target, started)
    produced = path.finish_producer(producer, summary)
    sent_s = time.monotonic() - started

    logger.info("preload: %d events sent in %.0f s; waiting for both stores",
                produced["delivered"], sent_s)  # fmt: skip
    drained, clickhouse, iceberg = _wait_for_stores(
        path, end_offsets(path.bootstrap, topics.FLIGHTS), settings.preload_timeout_s,
        settings.progress_interval_s, "preload",
    )  # fmt: skip
    if not drained:
        raise PathError(
            f"preload incomplete after {settings.preload_timeout_s:.0f} s: ClickHouse "
            f"{clickhouse:,} and Iceberg {iceberg:,} of {produced['delivered']:,} rows; "
            "pass a smaller --preload-rows or a longer RTPATH_PRELOAD_TIMEOUT_S"
        )

    total_s = time.monotonic() - started
    logger.info(
        "preload done: %d rows in both stores after %.0f s; settling for %.0f s",
        clickhouse, total_s, settings.idle_settle_s,
    )  # fmt: skip
    # Background work the preload left behind (ClickHouse merges, a checkpoint, an Iceberg
    # commit) would otherwise land in the first step's warm-up or measured interval.
    _sleep_checked(path, settings.idle_settle_s)
    return {
        "events": produced["delivered"],
        "send_s": round(sent_s, 1),
        "send_events_per_second": produced["events_per_second"],
        "until_stored_s": round(total_s, 1),
        "rows_clickhouse": clickhouse,
        "rows_iceberg": iceberg,
    }


def _log_preload(path: RunningPath, target: int, started: float) -> None:
    produced = end_offsets(path.bootstrap, topics.FLIGHTS)
    stored = clickhouse_rows(path.api)
    elapsed = time.monotonic() - started
    logger.info(
        "preload: %d of %d events sent, %d rows in ClickHouse (%.0f rows/s) after %.0f s",
        produced, target, stored, stored / elapsed, elapsed,
    )  # fmt: skip


def _sleep_checked(path: RunningPath, seconds: float, producer: Supervised | None = None) -> None:
    """Sleep `seconds`, raising as soon as a stage other than `producer` has exited."""
    deadline = time.monotonic() + seconds
    while True:
        for child in path.supervisor.children:
            if child is not producer and child.process.poll() is not None:
                raise PathError(
                    f"{child.name} exited with code {child.process.returncode}:\n{child.log_tail()}"
                )
        if producer is not None and producer.process.poll() is not None:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.2))


def _wait_for_stores(
    path: RunningPath, expected: int, timeout_s: float, progress_s: float, label: str
) -> tuple[bool, int, int]:
    """Wait until ClickHouse and Iceberg contain `expected` rows.

    Returns whether they did in time, then the ClickHouse and the Iceberg row counts.
    """
    # NOTE: `expected` counts every event of the flights topic, so a flight the job sends to
    # the dead-letter topic instead of flights_enriched makes this wait time out.
    deadline = time.monotonic() + timeout_s
    next_progress = time.monotonic() + progress_s
    while True:
        path.supervisor.check()
        clickhouse = clickhouse_rows(path.api)
        iceberg = iceberg_rows(str(path.data_dir), str(path.cache))
        if clickhouse >= expected and iceberg >= expected:
            return True, clickhouse, iceberg
        if time.monotonic() > deadline:
            logger.error(
                "%s: stores incomplete after %.0f s: %d rows expected, ClickHouse %d, "
                "Iceberg %d", label, timeout_s, expected, clickhouse, iceberg,
            )  # fmt: skip
            return False, clickhouse, iceberg
        if time.monotonic() >= next_progress:
            logger.info("%s: waiting for the stores: %d rows expected, ClickHouse %d, "
                        "Iceberg %d", label, expected, clickhouse, iceberg)  # fmt: skip
            next_progress += progress_s
        time.sleep(1.0)


def _wait_first_event(path: RunningPath, before: int, producer: Supervised) -> float:
    """Wait until the flights topic grows past `before` and return that wall-clock time in s."""
    deadline = time.monotonic() + FIRST_EVENT_TIMEOUT_S
    while end_offsets(path.bootstrap, topics.FLIGHTS) <= before:
        if producer.process.poll() is not None:
            raise PathError(
                f"{producer.name} exited with code {producer.process.returncode} before "
                f"sending:\n{producer.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise PathError(
                f"{producer.name} sent nothing within {FIRST_EVENT_TIMEOUT_S:.0f} s; see "
                f"{producer.log_path}"
            )
        time.sleep(0.1)
    return time.time()


def _run_step(
    path: RunningPath, settings: E2eSettings, rule: LagRule, rate: float
) -> dict[str, Any]:
    """Offer `rate` for warm-up plus measurement, then measure with ingest stopped."""
    logger.info("step %g events/s: warm-up %.0f s, then %.0f s measured",
                rate, settings.warmup_s, settings.measure_s)  # fmt: skip
    before = end_offsets(path.bootstrap, topics.FLIGHTS)
    send_s = settings.warmup_s + settings.measure_s + PRODUCER_MARGIN_S
    producer, summary = path.start_producer(
        ["--rate", f"{rate:g}", "--duration", f"{send_s:g}", "--loop"]
    )
    first_event = _wait_first_event(path, before, producer)
    _sleep_checked(path, first_event + settings.warmup_s - time.time(), producer)

    start = _backlog(path)
    start_clock = time.monotonic()
    measured_from_ms = int(time.time() * 1000)
    sampler = QuerySampler(path.api.base_url, settings.query_interval_s)
    sampler.start()
    try:
        measure_end = measured_from_ms / 1000 + settings.measure_s
        while (left := measure_end - time.time()) > 0:
            _sleep_checked(path, min(left, settings.progress_interval_s), producer)
            if producer.process.poll() is not None:
                raise PathError(f"{producer.name} stopped before the measured interval ended:"
                                f"\n{producer.log_tail()}")  # fmt: skip
            if measure_end - time.time() > 1.0:
                _log_step(path, rate)
        # The interval ends here, so freshness covers measure_s seconds of events and not
        # the time the readings below take.
        measured_to_ms = int(time.time() * 1000)
        end = _backlog(path)
        backlog_interval_s = time.monotonic() - start_clock
    finally:
        sampler.stop()
    produced = path.finish_producer(producer, summary)

    drain_started = time.monotonic()
    expected = end_offsets(path.bootstrap, topics.FLIGHTS)
    drained, clickhouse, iceberg = _wait_for_stores(
        path, expected, settings.drain_timeout_s, settings.progress_interval_s, f"step {rate:g}"
    )
    drain_s = time.monotonic() - drain_started
    idle = _idle_queries(path, settings) if drained else None

    reasons = unsustained_reasons(rate, backlog_interval_s, start, end, rule)
    if not drained:
        reasons.append(f"the stores did not catch up within {settings.drain_timeout_s:.0f} s")
    freshness = freshness_ms(path.api, measured_from_ms, measured_to_ms)
    cdf = (
        freshness_quantiles_ms(path.api, measured_from_ms, measured_to_ms, CDF_LEVELS)
        if freshness["count"]
        else []
    )
    query = percentiles(sampler.latencies_ms)
    verdict = judge_step(rate, reasons, freshness, query, settings.target_ms)
    step = {
        "rate": rate,
        "sent_events_per_second": round((end.produced - start.produced) / backlog_interval_s, 1),
        "measured_from_ms": measured_from_ms,
        "measured_to_ms": measured_to_ms,
        "backlog_start": _backlog_dict(start),
        "backlog_end": _backlog_dict(end),
        "freshness_ms": freshness,
        "freshness_cdf": {"levels": list(CDF_LEVELS), "values_ms": cdf},
        "window_lag_ms": window_lag_ms(path.api, measured_from_ms, measured_to_ms),
        "query_ms": query,
        "query_errors": sampler.errors,
        "idle_query_ms": idle[0] if idle else percentiles([]),
        "idle_query_errors": idle[1] if idle else 0,
        "producer": {
            "delivered": produced["delivered"],
            "events_per_second": produced["events_per_second"],
            "delivery_latency_ms": produced["delivery_latency_ms"],
            "lost": produced["lost"],
        },
        "drained": drained,
        "drain_s": round(drain_s, 1),
        "rows_clickhouse": clickhouse,
        "rows_iceberg": iceberg,
        "unsustained_reasons": reasons,
        "sustained": verdict.sustained,
        "freshness_pass": verdict.freshness_pass,
        "query_pass": verdict.query_pass,
        "passed": verdict.passed,
    }
    _log_step_result(step)
    return step


def _backlog_dict(backlog: Backlog) -> dict[str, int]:
    return {
        "produced": backlog.produced,
        "enriched": backlog.enriched,
        "stored": backlog.stored,
        "job_lag": backlog.job_lag,
        "store_lag": backlog.store_lag,
    }


def _log_step(path: RunningPath, rate: float) -> None:
    backlog = _backlog(path)
    logger.info(
        "step %g events/s: flights %d, job lag %d, ClickHouse lag %d",
        rate, backlog.produced, backlog.job_lag, backlog.store_lag,
    )  # fmt: skip


def _idle_queries(
    path: RunningPath, settings: E2eSettings
) -> tuple[dict[str, float | int | None], int]:
    """Run the dashboard queries with no ingest and return their latencies and error count."""
    time.sleep(settings.idle_settle_s)
    sampler = QuerySampler(path.api.base_url, settings.query_interval_s)
    sampler.start()
    try:
        _sleep_checked(path, settings.idle_query_s)
    finally:
        sampler.stop()
    return percentiles(sampler.latencies_ms), sampler.errors


def _log_step_result(step: dict[str, Any]) -> None:
    freshness, query = step["freshness_ms"], step["query_ms"]
    logger.info(
        "step %g events/s: %s; freshness p99 %s over %d rows, query p99 %s (idle %s), "
        "window lag p99 %s over %d windows",
        step["rate"], "passed" if step["passed"] else "failed", _ms(freshness["p99"]),
        freshness["count"], _ms(query["p99"]), _ms(step["idle_query_ms"]["p99"]),
        _ms(step["window_lag_ms"]["p99"]), step["window_lag_ms"]["count"],
    )  # fmt: skip


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"
