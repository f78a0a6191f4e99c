"""Benchmark of the ClickHouse sink: rows per second per core, and insert latency per batch.

JSON rows of `flights_enriched` are produced to a new topic first, then the sink reads and
inserts them all into chDB in this process (`stop at end`), once per batch size. The rate
per core is rows divided by the process CPU time of the sink run, which includes the threads
of librdkafka and of the chDB engine. Insert latency is the client-side time of each
successful insert, that is, of one batch, including the materialized views it feeds.

Run it alone with `python -m benchmarks.sinks_clickhouse --bootstrap 127.0.0.1:9092` against
a running broker (`rtpath stack up`); `run` is the entry point for `rtpath bench sinks`.
"""

import argparse
import contextlib
import json
import logging
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from core.logging import configure_logging
from core.settings import load_settings
from sinks.clickhouse.settings import ClickHouseSinkSettings
from sinks.clickhouse.sink import ClickHouseSink, latency_percentiles
from stack.topics import TopicSpec, ensure_topics

logger = logging.getLogger(__name__)

BASE_EVENT_MS = 1_700_000_000_000
ORIGINS = ("ORD", "DFW", "ATL", "LAX", "SFO", "DEN", "PHX", "IAH", "LAS", "DTW")
STATES = ("IL", "TX", "GA", "CA", "CA", "CO", "AZ", "TX", "NV", "MI")
BATCH_ROWS = (20_000, 5_000)


@dataclass(frozen=True)
class ClickHouseSinkResult:
    """One sink run over `rows` rows that were waiting in the topic."""

    rows: int
    partitions: int
    batch_rows: int
    inserts: int
    wall_s: float
    cpu_s: float
    insert_p50_ms: float
    insert_p99_ms: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.wall_s

    @property
    def rows_per_core_s(self) -> float:
        return self.rows / self.cpu_s


def flight_json(i: int) -> bytes:
    """Return flight `i` as Flink's JSON row, with plausible values and some nulls."""
    origin = i % len(ORIGINS)
    destination = (i * 7 + 3) % len(ORIGINS)
    event_ms = BASE_EVENT_MS + i
    unknown = i % 97 == 0
    row = {
        "event_id": f"{uuid.UUID(int=i)}",
        "departure": f"2001-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00",
        "origin": ORIGINS[origin],
        "destination": ORIGINS[destination],
        "delay_minutes": None if i % 53 == 0 else (i * 31) % 240 - 40,
        "distance_miles": 200 + (i * 13) % 2500,
        "origin_city": None if unknown else f"City {ORIGINS[origin]}",
        "origin_state": None if unknown else STATES[origin],
        "origin_latitude": None if unknown else 41.97 + origin / 10,
        "origin_longitude": None if unknown else -87.9 - origin / 10,
        "destination_city": f"City {ORIGINS[destination]}",
        "destination_state": STATES[destination],
        "destination_latitude": 32.9 + destination / 10,
        "destination_longitude": -97.04 - destination / 10,
        "great_circle_miles": None if unknown else 801.3 + (i % 1000) / 7,
        "event_time": event_ms,
        "produced_at": event_ms * 1000 + 123,
        "enriched_at": event_ms * 1000 + 9_123,
        "is_synthetic": True,
        "replay_round": 0,
    }
    return json.dumps(row).encode()


def produce_flights(bootstrap: str, topic: str, rows: int, partitions: int) -> None:
    producer = Producer({
        "bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 20,
        "batch.size": 1_000_000, "compression.type": "lz4",
        "queue.buffering.max.messages": 500_000,
    })  # fmt: skip
    for i in range(rows):
        while True:
            try:
                producer.produce(topic, value=flight_json(i), partition=i % partitions)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    remaining = producer.flush(120)
    if remaining:
        raise RuntimeError(f"{remaining} benchmark rows not delivered to {topic}")


def bench_sink(
    bootstrap: str, work_dir: Path, topic: str, rows: int, partitions: int, batch_rows: int
) -> ClickHouseSinkResult:
    """Run the sink over the rows waiting in `topic` into a new database; return the numbers."""
    windows_topic = f"{topic}-windows"
    ensure_topics(bootstrap, [TopicSpec(windows_topic, 1)])
    settings = load_settings(
        ClickHouseSinkSettings,
        data_dir=work_dir,
        kafka_bootstrap=bootstrap,
        clickhouse_database=f"bench_{batch_rows}",
        clickhouse_flights_topic=topic,
        clickhouse_windows_topic=windows_topic,
        clickhouse_group_id=f"bench-{topic}-{batch_rows}",
        clickhouse_batch_rows=batch_rows,
        clickhouse_stop_at_end=True,
    )
    cpu, wall = time.process_time(), time.perf_counter()
    totals = ClickHouseSink(settings).run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if totals.rows != rows:
        raise RuntimeError(f"sink inserted {totals.rows} of {rows} benchmark rows")
    p50, p99 = latency_percentiles(totals.insert_seconds)
    return ClickHouseSinkResult(
        rows, partitions, batch_rows, totals.inserts, wall, cpu, p50 * 1000, p99 * 1000
    )


def run(bootstrap: str, work_dir: Path | None = None, rows: int = 300_000) -> dict[str, Any]:
    """Run the sink once per batch size; return the results as plain data for BENCHMARKS.md."""
    partitions = 3
    topic = f"bench-ch-flights-enriched-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, [TopicSpec(topic, partitions)])
    logger.info("producing %d rows to %s", rows, topic)
    produce_flights(bootstrap, topic, rows, partitions)

    results = []
    with contextlib.ExitStack() as stack:
        if work_dir is None:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rtpath-")))
        for batch_rows in BATCH_ROWS:
            result = bench_sink(bootstrap, work_dir, topic, rows, partitions, batch_rows)
            logger.info(
                "ClickHouse sink, batches of %d rows: %d rows in %.2f s wall, %.2f s CPU: "
                "%.0f rows/s, %.0f rows/s per core, insert p50 %.1f ms p99 %.1f ms",
                batch_rows, result.rows, result.wall_s, result.cpu_s, result.rows_per_s,
                result.rows_per_core_s, result.insert_p50_ms, result.insert_p99_ms,
            )  # fmt: skip
            results.append(result)
    return {
        "clickhouse_sink": [
            {**asdict(r), "rows_per_s": r.rows_per_s, "rows_per_core_s": r.rows_per_core_s}
            for r in results
        ]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True, help="bootstrap.servers of a Kafka broker")
    parser.add_argument("--rows", type=int, default=300_000, help="rows of each sink run")
    args = parser.parse_args()
    configure_logging()
    print(json.dumps(run(args.bootstrap, rows=args.rows), indent=2))


if __name__ == "__main__":
    main()
