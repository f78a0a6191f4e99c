"""The ClickHouse sink: read Flink's output topics and land them in ClickHouse, exactly once.

Exactly once as seen by queries: each row carries its Kafka topic, partition and offset, and
on every partition assignment the sink resumes after the largest offset ClickHouse contains.
One batch is one insert and one part, so a crash at any point leaves each batch either fully
stored or absent. An insert retried after an unknown outcome carries the same deduplication
token, so ClickHouse drops the repeat.

NOTE: a consumer that stalls past the group's session timeout and then inserts can still
duplicate rows that its successor read from the store in the meantime.
"""

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import quantiles

from sinks.clickhouse.settings import ClickHouseSinkSettings
from sinks.clickhouse.store import apply_ddl, mask_dsn, open_client, stored_positions
from sinks.clickhouse.writer import BatchWriter
from sinks.dead_letters import DeadLetterWriter, ensure_dead_letter_topics
from sinks.kafka_source import Batch, KafkaBatchReader, end_offsets, reached_end

logger = logging.getLogger(__name__)

SINK_NAME = "clickhouse"
READ_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class SinkTotals:
    """Counters and insert durations of one run of the sink."""

    rows: int
    inserts: int
    dead_letters: int
    retries: int
    batches: int
    seconds: float
    insert_seconds: tuple[float, ...]


class ClickHouseSink:
    """Read the topics into their tables; one instance per run."""

    def __init__(self, settings: ClickHouseSinkSettings) -> None:
        self.settings = settings
        self._batches = 0

    def run(self, stop: threading.Event | None = None) -> SinkTotals:
        """Run until `stop` is set, then store the buffered rows and return the totals."""
        s = self.settings
        stop = stop or threading.Event()
        tables = s.topic_tables()
        client = open_client(s.clickhouse_dsn)
        try:
            apply_ddl(client, s.clickhouse_database)
            ensure_dead_letter_topics(s.bootstrap_servers, list(tables))
            ends = (
                end_offsets(s.bootstrap_servers, list(tables)) if s.clickhouse_stop_at_end else {}
            )
            self._log_start()

            def resume(topic: str, partitions: Sequence[int]) -> dict[int, int]:
                return stored_positions(client, tables[topic], topic, partitions)

            dead_letters = DeadLetterWriter(s.bootstrap_servers, SINK_NAME)
            writer = BatchWriter(
                client, dead_letters,
                max_attempts=s.clickhouse_insert_attempts, backoff_s=s.clickhouse_retry_backoff_s,
            )  # fmt: skip
            reader = KafkaBatchReader(
                s.bootstrap_servers, list(tables), s.clickhouse_group_id, resume,
                max_rows=s.clickhouse_batch_rows, max_wait_ms=s.clickhouse_flush_interval_ms,
                start_when_empty=s.clickhouse_start_when_empty,
            )  # fmt: skip
            started = time.monotonic()
            try:
                self._loop(reader, writer, tables, ends, stop)
            finally:
                reader.close()
                dead_letters.close()
            totals = self._totals(writer, time.monotonic() - started)
        finally:
            client.close()
        self._log_stop(totals)
        return totals

    def _loop(
        self,
        reader: KafkaBatchReader,
        writer: BatchWriter,
        tables: dict[str, str],
        ends: dict[tuple[str, int], int],
        stop: threading.Event,
    ) -> None:
        next_progress = time.monotonic() + self.settings.clickhouse_progress_interval_s
        while not stop.is_set():
            batches = reader.read(READ_TIMEOUT_S)
            for batch in batches:
                self._store(batch, reader, writer, tables)
            if time.monotonic() >= next_progress:
                self._log_progress(writer)
                next_progress = time.monotonic() + self.settings.clickhouse_progress_interval_s
            if ends and not batches and reached_end(reader, ends):
                logger.info("every partition is stored up to its end offset at start; stopping")
                return
        # A graceful stop stores what is buffered; a crash leaves it for the next run.
        for batch in reader.drain():
            self._store(batch, reader, writer, tables)

    def _store(
        self, batch: Batch, reader: KafkaBatchReader, writer: BatchWriter, tables: dict[str, str]
    ) -> None:
        writer.write(batch, tables[batch.topic])
        reader.commit(batch)
        self._batches += 1

    def _totals(self, writer: BatchWriter, seconds: float) -> SinkTotals:
        t = writer.totals
        return SinkTotals(
            rows=t.rows, inserts=t.inserts, dead_letters=t.dead_letters, retries=t.retries,
            batches=self._batches, seconds=seconds, insert_seconds=tuple(writer.insert_seconds),
        )  # fmt: skip

    def _log_start(self) -> None:
        s = self.settings
        logger.info(
            "clickhouse sink starting: target %s, database %s, topics %s -> %s, kafka %s, "
            "group %s, batch %d rows or %d ms, %d insert attempts (backoff %.2f s), "
            "start when empty %s, stop at end %s",
            mask_dsn(s.clickhouse_dsn), s.clickhouse_database,
            ", ".join(s.topic_tables()), ", ".join(s.topic_tables().values()),
            s.bootstrap_servers, s.clickhouse_group_id, s.clickhouse_batch_rows,
            s.clickhouse_flush_interval_ms, s.clickhouse_insert_attempts,
            s.clickhouse_retry_backoff_s, s.clickhouse_start_when_empty, s.clickhouse_stop_at_end,
        )  # fmt: skip

    def _log_progress(self, writer: BatchWriter) -> None:
        t = writer.totals
        p50, p99 = latency_percentiles(writer.insert_seconds)
        logger.info(
            "clickhouse sink: %d rows in %d inserts, %d dead letters, %d retries, "
            "insert p50 %.1f ms p99 %.1f ms",
            t.rows, t.inserts, t.dead_letters, t.retries, p50 * 1000, p99 * 1000,
        )  # fmt: skip

    def _log_stop(self, totals: SinkTotals) -> None:
        p50, p99 = latency_percentiles(totals.insert_seconds)
        logger.info(
            "clickhouse sink stopped after %.1f s: %d rows (%.0f rows/s) in %d batches and "
            "%d inserts, %d dead letters, %d retries, insert p50 %.1f ms p99 %.1f ms",
            totals.seconds, totals.rows, totals.rows / totals.seconds if totals.seconds else 0.0,
            totals.batches, totals.inserts, totals.dead_letters, totals.retries,
            p50 * 1000, p99 * 1000,
        )  # fmt: skip


def latency_percentiles(samples: Iterable[float]) -> tuple[float, float]:
    """Return the p50 and p99 of `samples`, in their unit; zeros when there are none."""
    values = list(samples)
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    cuts = quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]
