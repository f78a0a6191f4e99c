"""Benchmark the flight producer against Kafka's own producer perf tool, in one run.

Four producers send the same number of events to fresh topics of the running broker:

1. the Python Avro producer in 1 process, replaying the flights file;
2. the same in 2 processes;
3. a Python loop that sends pre-encoded values, the floor of the client's own cost;
4. `kafka-producer-perf-test` (`org.apache.kafka.tools.ProducerPerformance` from the
   pinned kafka-tools jar) with the same record size, acks, idempotence, linger, batch
   size and compression.

The Python producers run without a rate limit, so their latencies count from the send,
like the Kafka tool's. The Kafka tool sends values of random bytes with no key.
"""

import functools
import logging
import os
import re
import subprocess
import time
import uuid
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from benchmarks.produce_settings import ProduceBenchSettings
from core.errors import RtpathError
from producers.avro import encode_suffix
from producers.events import EventPlan, encoded_batches
from producers.launcher import run_flights
from producers.settings import client_config
from producers.source import Share
from producers.stats import LatencyHistogram
from stack import artifacts
from stack.java import check_java
from stack.topics import TopicSpec, ensure_topics

logger = logging.getLogger(__name__)

PERF_TOOL_CLASS = "org.apache.kafka.tools.ProducerPerformance"
PERF_TOOL_SUMMARY = re.compile(
    r"(?P<records>\d+) records sent, (?P<rate>[\d.]+) records/sec \((?P<mb>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th"
)
# Distinct values cycled through by the pre-encoded loop.
PRE_ENCODED_POOL = 65_536
TOPIC_READY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class BenchResult:
    """One producer's numbers; a None field was not measured."""

    name: str
    events: int
    events_per_s: float
    mb_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    peak_rss_mb: list[float]


def run_benchmark(settings: ProduceBenchSettings) -> list[BenchResult]:
    """Run the four producers one after another; return their results in that order."""
    bootstrap = settings.bootstrap_servers
    record_bytes = mean_record_bytes(settings)
    logger.info(
        "benchmarking producers on %s: %d events each, mean Avro record %.1f bytes, "
        "linger.ms %d, batch.size %d, compression %s, %d partitions",
        bootstrap, settings.events, record_bytes, settings.linger_ms, settings.batch_size,
        settings.compression, settings.partitions,
    )  # fmt: skip
    results = []
    for processes in (1, 2):
        with bench_topic(settings) as topic:
            results.append(run_avro_producer(settings, topic, processes, record_bytes))
    with bench_topic(settings) as topic:
        results.append(run_pre_encoded(settings, topic))
    with bench_topic(settings) as topic:
        results.append(run_perf_tool(settings, topic, round(record_bytes)))
    return results


@contextmanager
def bench_topic(settings: ProduceBenchSettings) -> Iterator[str]:
    """Create a topic and its dead-letter topic for one run; delete both afterwards."""
    bootstrap = settings.bootstrap_servers
    name = f"bench-produce-{uuid.uuid4().hex[:8]}"
    specs = [TopicSpec(name, settings.partitions), TopicSpec(f"{name}.dlq", 1)]
    ensure_topics(bootstrap, specs)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    # A new topic reaches the broker's metadata cache shortly after creation.
    deadline = time.monotonic() + TOPIC_READY_TIMEOUT_S
    while not all(s.name in admin.list_topics(timeout=10).topics for s in specs):
        if time.monotonic() > deadline:
            raise RtpathError(f"topic {name} did not appear within {TOPIC_READY_TIMEOUT_S:g} s")
        time.sleep(0.2)
    try:
        yield name
    finally:
        for future in admin.delete_topics([s.name for s in specs]).values():
            future.result()


def mean_record_bytes(settings: ProduceBenchSettings) -> float:
    """Return the mean size of an encoded flight event over the first batch of the file."""
    plan = EventPlan(settings.input_path, 8192, Share(), "00000000", False, False, 0, 2**31)
    batch = next(encoded_batches(plan, 0))
    suffix = encode_suffix(time.time_ns() // 1_000_000, time.time_ns() // 1000, False, 0)
    return float(np.mean([len(v) for v in batch.values])) + len(suffix)


def run_avro_producer(
    settings: ProduceBenchSettings, topic: str, processes: int, record_bytes: float
) -> BenchResult:
    run = settings.model_copy(
        update={"topic": topic, "count": settings.events, "processes": processes, "loop": True}
    )
    summary = run_flights(run, spawn=True)
    if summary.counters.lost or summary.errors:
        raise RtpathError(f"the Avro producer lost events in the benchmark: {summary.describe()}")
    return BenchResult(
        name=f"Python Avro producer, {processes} process{'es' if processes > 1 else ''}",
        events=summary.counters.delivered,
        events_per_s=summary.events_per_s,
        mb_per_s=summary.events_per_s * record_bytes / 1e6,
        p50_ms=summary.latency.percentile_ms(50),
        p99_ms=summary.latency.percentile_ms(99),
        peak_rss_mb=[rss / 2**20 for rss in summary.peak_rss_bytes],
    )


def run_pre_encoded(settings: ProduceBenchSettings, topic: str) -> BenchResult:
    """Send already encoded values in a plain loop: one produce() and one poll(0) per 64."""
    plan = EventPlan(
        settings.input_path, PRE_ENCODED_POOL, Share(), "bench", False, False, 0, 2**31
    )
    batch = next(encoded_batches(plan, 0))
    suffix = encode_suffix(time.time_ns() // 1_000_000, time.time_ns() // 1000, False, 0)
    values = [value + suffix for value in batch.values]
    keys = batch.keys
    producer = Producer(client_config(settings))
    latencies = array("q")
    failed = 0

    def delivered(sent_ns: int, error: object, message: object) -> None:
        nonlocal failed
        if error is None:
            latencies.append(time.monotonic_ns() - sent_ns)
        else:
            failed += 1

    pool = len(values)
    started = time.monotonic()
    for first in range(0, settings.events, 64):
        callback = functools.partial(delivered, time.monotonic_ns())
        for index in range(first, min(first + 64, settings.events)):
            while True:
                try:
                    producer.produce(topic, values[index % pool], keys[index % pool],
                                     on_delivery=callback)  # fmt: skip
                    break
                except BufferError:
                    producer.poll(0.1)
        producer.poll(0)
    unflushed = producer.flush(60)
    elapsed = time.monotonic() - started
    if failed or unflushed:
        raise RtpathError(f"the pre-encoded loop lost {failed + unflushed} events")
    histogram = LatencyHistogram()
    histogram.add(np.frombuffer(latencies, dtype=np.int64))
    rate = settings.events / elapsed
    mean_bytes = float(np.mean([len(v) for v in values]))
    return BenchResult(
        name="Python loop, pre-encoded values",
        events=settings.events,
        events_per_s=rate,
        mb_per_s=rate * mean_bytes / 1e6,
        p50_ms=histogram.percentile_ms(50),
        p99_ms=histogram.percentile_ms(99),
        peak_rss_mb=[],
    )


def run_perf_tool(settings: ProduceBenchSettings, topic: str, record_size: int) -> BenchResult:
    """Run Kafka's ProducerPerformance with the producer settings of the Python runs."""
    jars = artifacts.require(settings.cache_path, "kafka")
    java = check_java()
    command = [
        str(java), "-Xmx512m", "-cp", os.pathsep.join(str(jar) for jar in jars),
        PERF_TOOL_CLASS, "--topic", topic, "--num-records", str(settings.events),
        "--record-size", str(record_size), "--throughput", "-1",
        "--producer-props",
        f"bootstrap.servers={settings.bootstrap_servers}", "acks=all",
        "enable.idempotence=true", f"linger.ms={settings.linger_ms}",
        f"batch.size={settings.batch_size}", f"compression.type={settings.compression}",
    ]  # fmt: skip
    logger.info("running %s", " ".join(command[4:]))
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    match = PERF_TOOL_SUMMARY.search(result.stdout)
    if result.returncode != 0 or match is None:
        output = (result.stdout + result.stderr).strip()[-2000:]
        raise RtpathError(f"{PERF_TOOL_CLASS} failed with code {result.returncode}: {output}")
    return BenchResult(
        name="kafka-producer-perf-test (Java)",
        events=int(match["records"]),
        events_per_s=float(match["rate"]),
        mb_per_s=float(match["mb"]),
        p50_ms=float(match["p50"]),
        p99_ms=float(match["p99"]),
        peak_rss_mb=[],
    )


def format_table(results: list[BenchResult]) -> str:
    """Return the results as a Markdown table with each rate's ratio to the Kafka tool."""
    reference = results[-1].events_per_s
    lines = [
        "| producer | events | events/s | MB/s | p50 ms | p99 ms | ratio to Kafka tool "
        "| ratio per process | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        processes = max(len(r.peak_rss_mb), 1)
        ratio = r.events_per_s / reference
        lines.append(
            f"| {r.name} | {r.events:,} | {r.events_per_s:,.0f} | {r.mb_per_s:.1f} "
            f"| {_number(r.p50_ms)} | {_number(r.p99_ms)} | {ratio:.2f} "
            f"| {ratio / processes:.2f} | "
            + (", ".join(f"{rss:.0f}" for rss in r.peak_rss_mb) or "n/a")
            + " |"
        )
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"
