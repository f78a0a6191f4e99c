"""Benchmark of the Iceberg sink: rows per second per core, and commit cost against Parquet.

Two measurements, both against the local SQLite catalog in a scratch folder:

- Sink throughput: JSON rows of `flights_enriched` are produced to a topic first, then the
  sink reads and commits them all (`stop at end`). The rate per core is rows divided by the
  process CPU time of the sink run, which includes librdkafka's and pyiceberg's threads.
- Commit against Parquet: one decoded batch of `commit_rows` rows is committed to an Iceberg
  table and written with `pyarrow.parquet.write_table` (zstd, like the table), alternately,
  in the same run. The ratio of the medians isolates the cost of the catalog and metadata.

Run it alone with `python -m benchmarks.sinks_iceberg --bootstrap 127.0.0.1:9092` against a
running broker (`rtpath stack up`); `run` is the entry point for `rtpath bench sinks`.
"""

import argparse
import contextlib
import json
import logging
import statistics
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.enriched_rows import flight_json, produce_flights
from core.logging import configure_logging
from core.settings import load_settings
from sinks.iceberg.catalog import open_catalog
from sinks.iceberg.decode import BatchDecoder
from sinks.iceberg.settings import IcebergSettings
from sinks.iceberg.sink import IcebergSink
from sinks.iceberg.tables import KAFKA_OFFSET, definition, ensure_table
from sinks.iceberg.writer import TableWriter
from stack.topics import TopicSpec, ensure_topics

logger = logging.getLogger(__name__)

GOAL_RATIO = 3.0


@dataclass(frozen=True)
class ThroughputResult:
    """The sink reading and committing `rows` rows that were waiting in the topic."""

    rows: int
    partitions: int
    commit_rows: int
    wall_s: float
    cpu_s: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.wall_s

    @property
    def rows_per_core_s(self) -> float:
        return self.rows / self.cpu_s


@dataclass(frozen=True)
class CommitResult:
    """Median times of an Iceberg commit and a Parquet write of the same batch."""

    rows: int
    repeats: int
    commit_ms: float
    parquet_ms: float
    commit_ms_all: list[float]
    parquet_ms_all: list[float]

    @property
    def ratio(self) -> float:
        return self.commit_ms / self.parquet_ms


def bench_throughput(
    bootstrap: str, work_dir: Path, rows: int = 300_000, partitions: int = 3,
    commit_rows: int = 100_000,
) -> ThroughputResult:  # fmt: skip
    """Measure the sink over `rows` rows waiting in a new topic of `partitions` partitions."""
    topic = f"bench-flights-enriched-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, [TopicSpec(topic, partitions)])
    logger.info("producing %d rows to %s", rows, topic)
    produce_flights(bootstrap, topic, rows, partitions)

    settings = load_settings(
        IcebergSettings,
        data_dir=work_dir / "throughput",
        kafka_bootstrap=bootstrap,
        iceberg_tables=("flights_enriched",),
        iceberg_flights_topic=topic,
        iceberg_group_id=f"bench-{topic}",
        iceberg_commit_rows=commit_rows,
        iceberg_stop_at_end=True,
    )
    sink = IcebergSink(settings)
    cpu, wall = time.process_time(), time.perf_counter()
    totals = sink.run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if totals.rows != rows:
        raise RuntimeError(f"sink committed {totals.rows} of {rows} benchmark rows")
    return ThroughputResult(rows, partitions, commit_rows, wall, cpu)


def decoded_batch(writer: TableWriter, rows: int) -> pa.Table:
    decoder = BatchDecoder(writer.spec, writer.arrow_schema)
    batch, rejects = decoder.decode(
        [flight_json(i) for i in range(rows)], [0] * rows, list(range(rows))
    )
    if rejects:
        raise RuntimeError(f"benchmark rows rejected: {rejects[0].error}")
    return batch


def bench_commit(work_dir: Path, rows: int = 100_000, repeats: int = 5) -> CommitResult:
    """Time `repeats` Iceberg commits and Parquet writes of one `rows`-row batch, alternately."""
    settings = load_settings(
        IcebergSettings, data_dir=work_dir / "commit", iceberg_tables=("flights_enriched",)
    )
    catalog = open_catalog(settings)
    ensure_table(catalog, settings.iceberg_namespace, "flights_enriched")
    writer = TableWriter(
        catalog, settings.iceberg_namespace, definition("flights_enriched"), "bench",
        attempts=1, backoff_s=0.1,
    )  # fmt: skip
    batch = decoded_batch(writer, rows)
    parquet_dir = work_dir / "parquet"
    parquet_dir.mkdir(parents=True, exist_ok=True)

    offset_index = batch.schema.get_field_index(KAFKA_OFFSET)
    commit_ms, parquet_ms = [], []
    for n in range(repeats):
        # Each commit must carry new offsets, or the writer skips its rows as already stored.
        shifted = pc.add(batch.column(offset_index), n * rows)
        batch = batch.set_column(offset_index, batch.schema.field(offset_index), shifted)
        start = time.perf_counter()
        result = writer.commit(batch, {0: rows * (n + 1)})
        commit_ms.append((time.perf_counter() - start) * 1000)
        if result.rows != rows:
            raise RuntimeError(f"commit {n} wrote {result.rows} of {rows} rows")

        start = time.perf_counter()
        pq.write_table(batch, parquet_dir / f"batch-{n}.parquet", compression="zstd")
        parquet_ms.append((time.perf_counter() - start) * 1000)
    return CommitResult(
        rows, repeats, statistics.median(commit_ms), statistics.median(parquet_ms),
        commit_ms, parquet_ms,
    )  # fmt: skip


def run(bootstrap: str, work_dir: Path | None = None, rows: int = 300_000) -> dict[str, Any]:
    """Run both measurements; return them as plain data for reports and BENCHMARKS.md."""
    with contextlib.ExitStack() as stack:
        if work_dir is None:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rtpath-")))
        folder = work_dir
        commit = bench_commit(folder)
        logger.info(
            "Iceberg commit of %d rows: median %.1f ms; pyarrow.parquet.write_table: median "
            "%.1f ms; ratio %.2f (goal <= %.1f)",
            commit.rows, commit.commit_ms, commit.parquet_ms, commit.ratio, GOAL_RATIO,
        )  # fmt: skip
        throughput = bench_throughput(bootstrap, folder, rows=rows)
        logger.info(
            "Iceberg sink: %d rows in %.2f s wall, %.2f s CPU: %.0f rows/s, %.0f rows/s per core",
            throughput.rows, throughput.wall_s, throughput.cpu_s, throughput.rows_per_s,
            throughput.rows_per_core_s,
        )  # fmt: skip
    return {
        "iceberg_commit": {
            **asdict(commit), "ratio": commit.ratio, "goal_ratio": GOAL_RATIO,
            "goal_met": commit.ratio <= GOAL_RATIO,
        },
        "iceberg_sink": {
            **asdict(throughput), "rows_per_s": throughput.rows_per_s,
            "rows_per_core_s": throughput.rows_per_core_s,
        },
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True, help="bootstrap.servers of a Kafka broker")
    parser.add_argument("--rows", type=int, default=300_000, help="rows of the sink run")
    args = parser.parse_args()
    configure_logging()
    print(json.dumps(run(args.bootstrap, rows=args.rows), indent=2))


if __name__ == "__main__":
    main()
