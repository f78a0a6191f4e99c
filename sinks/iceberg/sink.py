"""The Iceberg sink: land Flink's output topics in Iceberg tables, exactly once.

Each topic feeds one table. A batch is committed when it holds `iceberg_commit_rows` rows
or its first row is `iceberg_commit_interval_s` old. The Kafka offsets after each batch go
into the snapshot summary of its commit, and on every partition assignment the sink resumes
from the offsets the table stores, never from those committed to the consumer group.
"""

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, TopicPartition

from core.errors import BrokerError, ConfigError
from sinks.dead_letters import DeadLetterWriter, ensure_dead_letter_topics
from sinks.iceberg.catalog import describe_catalog, open_catalog
from sinks.iceberg.decode import BatchDecoder
from sinks.iceberg.offsets import stored_offsets
from sinks.iceberg.settings import IcebergSettings
from sinks.iceberg.tables import definition, ensure_table
from sinks.iceberg.writer import TableWriter
from sinks.kafka_source import Batch, KafkaBatchReader

logger = logging.getLogger(__name__)

SINK_NAME = "iceberg"
READ_TIMEOUT_S = 0.5
PROGRESS_INTERVAL_S = 5.0


@dataclass
class SinkTotals:
    """Counters of one run of the sink."""

    rows: int = 0
    """Rows committed to Iceberg."""
    commits: int = 0
    skipped: int = 0
    """Rows read again after a restart or rebalance and dropped because already stored."""
    dead_letters: int = 0
    conflicts: int = 0
    """Commit attempts that failed and were retried."""


class IcebergSink:
    """Read the configured topics and commit each to its Iceberg table."""

    def __init__(self, settings: IcebergSettings) -> None:
        self.settings = settings
        catalog = open_catalog(settings)
        self.writers: dict[str, TableWriter] = {}
        self.decoders: dict[str, BatchDecoder] = {}
        for name in settings.iceberg_tables:
            topic = settings.topic_of(name)
            if topic in self.writers:
                raise ConfigError(
                    f"topic {topic!r} is configured for two tables; give "
                    "--iceberg-flights-topic and --iceberg-windows-topic different topics"
                )
            ensure_table(catalog, settings.iceberg_namespace, name, settings.iceberg_synthetic)
            writer = TableWriter(
                catalog,
                settings.iceberg_namespace,
                definition(name),
                topic,
                attempts=settings.iceberg_commit_attempts,
                backoff_s=settings.iceberg_retry_backoff_s,
            )
            self.writers[topic] = writer
            self.decoders[topic] = BatchDecoder(writer.spec, writer.arrow_schema)
        self.totals = SinkTotals()
        # Next offset to read per topic and partition, as the tables store it.
        self.positions: dict[str, dict[int, int]] = {}

    def run(self, stop: threading.Event | None = None) -> SinkTotals:
        """Consume and commit until `stop` is set, or until the end offsets are reached.

        On return every row read so far is committed. Raises `RtpathError` subclasses on
        failures that a retry does not fix.
        """
        stop = stop or threading.Event()
        settings = self.settings
        topics = list(self.writers)
        ensure_dead_letter_topics(settings.bootstrap_servers, topics)
        end_offsets = read_end_offsets(settings.bootstrap_servers, topics)
        dead_letters = DeadLetterWriter(settings.bootstrap_servers, SINK_NAME)
        reader = KafkaBatchReader(
            settings.bootstrap_servers,
            topics,
            settings.iceberg_group_id,
            self._resume,
            max_rows=settings.iceberg_commit_rows,
            max_wait_ms=max(1, round(settings.iceberg_commit_interval_s * 1000)),
        )
        self._log_start()
        started = time.monotonic()
        next_progress = started + PROGRESS_INTERVAL_S
        try:
            while not stop.is_set():
                batches = reader.read(READ_TIMEOUT_S)
                if not batches and settings.iceberg_stop_at_end:
                    # Nothing became due: commit what is buffered, then check for the end.
                    batches = reader.drain()
                for batch in batches:
                    self._store(batch, reader, dead_letters)
                if settings.iceberg_stop_at_end and self._reached(end_offsets):
                    logger.info("reached the end offsets the topics had at start")
                    break
                if time.monotonic() >= next_progress:
                    self._log_progress(started)
                    next_progress = time.monotonic() + PROGRESS_INTERVAL_S
            for batch in reader.drain():
                self._store(batch, reader, dead_letters)
        finally:
            reader.close()
            dead_letters.close()
        self._log_stop(started)
        return self.totals

    def _resume(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        stored = self.writers[topic].positions()
        self.positions[topic] = dict(stored)
        return {p: stored[p] for p in partitions if p in stored}

    def _store(
        self, batch: Batch, reader: KafkaBatchReader, dead_letters: DeadLetterWriter
    ) -> None:
        writer = self.writers[batch.topic]
        decoder = self.decoders[batch.topic]
        if decoder.target != writer.arrow_schema:
            # The table's schema evolved since the decoder was built: follow it.
            decoder = self.decoders[batch.topic] = BatchDecoder(writer.spec, writer.arrow_schema)
        messages = batch.messages
        rows, rejects = decoder.decode(
            batch.values(),
            [m.partition() for m in messages],  # type: ignore[misc]
            [m.offset() for m in messages],  # type: ignore[misc]
        )
        for reject in rejects:
            dead_letters.send(messages[reject.index], reject.error)
        # A dead letter is acknowledged before the offset past it is stored.
        dead_letters.flush()
        result = writer.commit(rows, batch.end_offsets())
        reader.commit(batch)

        self.totals.rows += result.rows
        self.totals.skipped += result.skipped
        self.totals.dead_letters += len(rejects)
        self.totals.conflicts += result.attempts - 1
        if result.snapshot_id is not None:
            self.totals.commits += 1
        self.positions[batch.topic] = stored_offsets(writer.table).get(batch.topic, {})
        logger.debug(
            "committed %d rows of %s to %s in snapshot %s (attempt %d)",
            result.rows, batch.topic, writer.name, result.snapshot_id, result.attempts,
        )  # fmt: skip

    def _reached(self, end_offsets: dict[str, dict[int, tuple[int, int]]]) -> bool:
        for topic, partitions in end_offsets.items():
            stored = self.positions.get(topic, {})
            for partition, (low, high) in partitions.items():
                if stored.get(partition, low) < high:
                    return False
        return True

    def _log_start(self) -> None:
        s = self.settings
        routes = ", ".join(f"{topic} -> {w.name}" for topic, w in self.writers.items())
        logger.info(
            "starting Iceberg sink: %s, %s, commit every %.1f s or %d rows, group %s, "
            "kafka %s, commit attempts %d, synthetic %s, stop at end %s",
            describe_catalog(s), routes, s.iceberg_commit_interval_s, s.iceberg_commit_rows,
            s.iceberg_group_id, s.bootstrap_servers, s.iceberg_commit_attempts,
            s.iceberg_synthetic, s.iceberg_stop_at_end,
        )  # fmt: skip

    def _log_progress(self, started: float) -> None:
        elapsed = time.monotonic() - started
        t = self.totals
        logger.info(
            "%d rows committed in %d commits (%.0f rows/s), %d dead letters, "
            "%d skipped as already stored, %d conflicts retried",
            t.rows, t.commits, t.rows / elapsed if elapsed else 0.0, t.dead_letters,
            t.skipped, t.conflicts,
        )  # fmt: skip

    def _log_stop(self, started: float) -> None:
        elapsed = time.monotonic() - started
        t = self.totals
        logger.info(
            "stopped Iceberg sink after %.1f s: %d rows committed in %d commits, "
            "%d dead letters, %d skipped as already stored, %d conflicts retried",
            elapsed, t.rows, t.commits, t.dead_letters, t.skipped, t.conflicts,
        )  # fmt: skip


def read_end_offsets(
    bootstrap_servers: str, topics: list[str], timeout_s: float = 10.0
) -> dict[str, dict[int, tuple[int, int]]]:
    """Return the low and high watermark of every partition of `topics`."""
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": "rtpath-watermarks"})
    try:
        metadata = consumer.list_topics(timeout=timeout_s)
        watermarks: dict[str, dict[int, tuple[int, int]]] = {}
        for topic in topics:
            found = metadata.topics.get(topic)
            if found is None or found.error is not None:
                raise BrokerError(f"topic {topic!r} not found on {bootstrap_servers}")
            watermarks[topic] = {
                p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)
                for p in found.partitions
            }
        return watermarks
    except KafkaException as exc:
        raise BrokerError(f"cannot read the end offsets of {topics}: {exc}") from exc
    finally:
        consumer.close()
