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

from benchmarks.enriched_rows import produce_flights
from core.logging import configure_logging
from core.settings import load_settings
from sinks.clickhouse.settings import ClickHouseSinkSettings
from sinks.clickhouse.sink import ClickHouseSink, latency_percentiles
from stack.topics import TopicSpec, ensure_topics

logger = logging.getLogger(__name__)

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
