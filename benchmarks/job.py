"""`rtpath bench job`: throughput and latency of the flights job.

Three phases, each on topics of its own:

1. datagen: the job's SQL fed by the `datagen` connector into `blackhole` sinks; the rate
   is rows over the time from RUNNING to FINISHED.
2. kafka: the same SQL reading a `flights` topic filled beforehand with ROWS records. The
   rate is how fast flights_enriched grows between its first and last message. Draining a
   backlog is the fastest the job consumes, so it bounds the rate at which consumer lag
   stops growing.
3. latency: an open-loop producer at half the kafka rate (or --latency-rate); latency is
   the time a flights_enriched message is received minus the intended send time of its
   flight, whose produced_at carries it. The first 2 s are warm-up and left out.
"""

import csv
import io
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, Producer
from fastavro import schemaless_writer

from core.schemas import parsed_schema
from jobs.runner import FlightsJob, JobPlan
from jobs.settings import JobSettings
from stack import artifacts
from stack.topics import TopicSpec, end_offsets, ensure_topics

logger = logging.getLogger(__name__)

ORIGINS = ("ORD", "DFW", "ATL", "LAX", "DEN", "PHX", "IAH", "LAS", "DTW", "MSP")
DESTINATIONS = ("SEA", "BOS", "MIA", "JFK", "SFO", "MCO", "CLT", "EWR")
WARM_UP_S = 2.0
POLL_S = 0.25


@dataclass(frozen=True)
class JobBenchmark:
    """The numbers of one `rtpath bench job` run."""

    rows: int
    datagen_rate: float
    kafka_rate: float
    latency_rate: float
    latency_samples: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def ratio(self) -> float:
        return self.kafka_rate / self.datagen_rate if self.datagen_rate else 0.0


DATAGEN_ROWS_FACTOR = 10


def bench_topics(settings: JobSettings, phase: str) -> JobSettings:
    """Return `settings` with fresh topics, consumer group and data folder for one phase."""
    run = f"bench-{phase}-{uuid.uuid4().hex[:6]}"
    names = {
        "flights_topic": f"{run}-flights",
        "airports_topic": f"{run}-airports",
        "enriched_topic": f"{run}-enriched",
        "windows_topic": f"{run}-windows",
        "late_topic": f"{run}-late",
        "flights_dead_letter_topic": f"{run}-flights.dlq",
    }
    specs = [TopicSpec(name, 1) for key, name in names.items() if key != "airports_topic"]
    specs.append(TopicSpec(names["airports_topic"], 1, {"cleanup.policy": "compact"}))
    ensure_topics(settings.bootstrap_servers, specs)
    return settings.model_copy(
        update={
            **names,
            "group_id": run,
            "data_dir": settings.data_dir / "bench" / run,
            "cache_dir": settings.cache_path,
        }
    )


def publish_airports(settings: JobSettings) -> int:
    """Publish airports.csv of the pinned dataset to the airports topic; return the count."""
    csv_path = next(p for p in artifacts.require(settings.cache_path, "data") if p.suffix == ".csv")
    producer = Producer({"bootstrap.servers": settings.bootstrap_servers, "linger.ms": 20})
    count = 0
    with csv_path.open(newline="") as f:
        for row in csv.DictReader(f):
            record = {
                "code": row["iata"], "name": row["name"], "city": row["city"] or None,
                "state": row["state"] or None, "country": row["country"] or None,
                "latitude": float(row["latitude"]), "longitude": float(row["longitude"]),
                "updated_at": 0,
            }  # fmt: skip
            producer.produce(
                settings.airports_topic, key=row["iata"].encode(), value=_encode("airport", record)
            )
            count += 1
    producer.flush(60)
    return count


def _encode(schema: str, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, parsed_schema(schema), record)
    return buffer.getvalue()


def _flight(number: int, event_time: int, produced_at: int) -> dict[str, Any]:
    import datetime

    return {
        "event_id": f"bench-{number}",
        "departure": datetime.datetime(2001, 1, 1, 6, 0),
        "origin": ORIGINS[number % len(ORIGINS)],
        "destination": DESTINATIONS[number % len(DESTINATIONS)],
        "delay_minutes": number % 90 - 20,
        "distance_miles": 500 + number % 2000,
        "event_time": event_time,
        "produced_at": produced_at,
        "is_synthetic": True,
        "replay_round": 0,
    }


def measure_datagen(settings: JobSettings, rows: int) -> float:
    """Return rows/s of the job's SQL from datagen into blackhole sinks."""
    settings = bench_topics(settings, "datagen")
    publish_airports(settings)
    # Ten times the Kafka phase's rows, so the run lasts long enough to time after its
    # tasks start; the rate counts from then.
    rows *= DATAGEN_ROWS_FACTOR
    extra = {"rows": str(rows), "rows_per_second": "1000000000", "start_ms": "1000000000000"}
    job = FlightsJob(settings, JobPlan("datagen"), resume=False, sql_extra=extra)
    job.start()
    job.wait_until_running()
    started = time.monotonic()
    job.wait()
    elapsed = time.monotonic() - started
    rate = rows / elapsed
    logger.info("datagen: %d rows in %.1f s, %.0f rows/s", rows, elapsed, rate)
    return rate


def measure_kafka(settings: JobSettings, rows: int) -> float:
    """Return rows/s at which the job drains a backlog of `rows` flights."""
    settings = bench_topics(settings, "kafka")
    publish_airports(settings)
    producer = Producer({"bootstrap.servers": settings.bootstrap_servers, "linger.ms": 20})
    now_ms = int(time.time() * 1000)
    for number in range(rows):
        record = _flight(number, now_ms + number // 10, now_ms * 1000)
        while True:
            try:
                producer.produce(settings.flights_topic, value=_encode("flight", record))
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(120)
    logger.info("kafka: %d flights written to %s", rows, settings.flights_topic)

    job = FlightsJob(settings, resume=False)
    job.start()
    try:
        first_count = first_at = 0.0
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            count = end_offsets(settings.bootstrap_servers, settings.enriched_topic)
            if count and not first_at:
                first_count, first_at = count, time.monotonic()
            if count >= rows:
                break
            time.sleep(POLL_S)
        elapsed = time.monotonic() - first_at
    finally:
        job.stop(savepoint=False)
    rate = (rows - first_count) / elapsed if elapsed > 0 else 0.0
    logger.info("kafka: drained %d flights at %.0f rows/s", rows, rate)
    return rate


def measure_latency(settings: JobSettings, rate: float, seconds: float) -> list[float]:
    """Return Kafka-in to Kafka-out latencies in ms at `rate` flights/s, warm-up excluded."""
    settings = bench_topics(settings, "latency")
    publish_airports(settings)
    job = FlightsJob(settings, resume=False)
    job.start()
    job.wait_until_running()
    latencies: list[tuple[int, float]] = []
    stop = threading.Event()
    reader = threading.Thread(target=_read_latencies, args=(settings, latencies, stop), daemon=True)
    reader.start()
    producer = Producer({"bootstrap.servers": settings.bootstrap_servers, "linger.ms": 0})
    started = time.time()
    total = int(rate * seconds)
    try:
        for number in range(total):
            intended = started + number / rate
            delay = intended - time.time()
            if delay > 0:
                time.sleep(delay)
            intended_us = int(intended * 1_000_000)
            record = _flight(number, intended_us // 1000, intended_us)
            producer.produce(settings.flights_topic, value=_encode("flight", record))
            producer.poll(0)
        producer.flush(30)
        time.sleep(3)
    finally:
        stop.set()
        reader.join(10)
        job.stop(savepoint=False)
    warm_up_end_us = (started + WARM_UP_S) * 1_000_000
    return [latency for produced, latency in latencies if produced >= warm_up_end_us]


def _read_latencies(
    settings: JobSettings, out: list[tuple[int, float]], stop: threading.Event
) -> None:
    import json

    consumer = Consumer(
        {
            "bootstrap.servers": settings.bootstrap_servers,
            "group.id": f"{settings.group_id}-reader",
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 5,
        }
    )
    consumer.subscribe([settings.enriched_topic])
    while not stop.is_set():
        for message in consumer.consume(num_messages=1000, timeout=0.1):
            received_us = time.time() * 1_000_000
            value = message.value()
            if message.error() is None and value is not None:
                produced = json.loads(value)["produced_at"]
                out.append((produced, (received_us - produced) / 1000))
    consumer.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(
    settings: JobSettings,
    rows: int,
    latency_seconds: float,
    latency_rate: float | None,
    skip_throughput: bool,
) -> JobBenchmark:
    datagen_rate = kafka_rate = 0.0
    if not skip_throughput:
        datagen_rate = measure_datagen(settings, rows)
        kafka_rate = measure_kafka(settings, rows)
    rate = latency_rate or kafka_rate / 2
    if rate <= 0:
        raise ValueError("set --latency-rate when the throughput phases are skipped")
    latencies = measure_latency(settings, rate, latency_seconds)
    return JobBenchmark(
        rows=rows,
        datagen_rate=datagen_rate,
        kafka_rate=kafka_rate,
        latency_rate=rate,
        latency_samples=len(latencies),
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        max_ms=max(latencies, default=float("nan")),
    )


def report(result: JobBenchmark, settings: JobSettings) -> str:
    lines = [
        f"enrichment {settings.enrichment}, parallelism {settings.parallelism}",
        f"datagen -> blackhole: {result.datagen_rate:,.0f} rows/s "
        f"({result.rows * DATAGEN_ROWS_FACTOR:,} rows)",
        f"kafka -> kafka:       {result.kafka_rate:,.0f} rows/s (ratio {result.ratio:.2f})",
        f"latency at {result.latency_rate:,.0f} rows/s, {result.latency_samples:,} rows: "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, max {result.max_ms:.1f} ms",
    ]
    return "\n".join(lines)
