"""Read Flink's output topics in batches, starting from the positions the sink's store holds.

Both sinks turn Kafka's at-least-once delivery into exactly-once as seen by queries. Each
store keeps the offsets it has written (columns in ClickHouse, the snapshot summary in
Iceberg), and on every partition assignment the reader asks the store where to start. The
offsets committed to Kafka only feed consumer lag tools, and this module never reads them.

The contract with the caller: write every batch that `read` returns to the store before
calling `read` again. Rebalance callbacks run inside `read`, so by the time a partition is
revoked every batch handed out for it is stored. Buffered messages that were not handed out
are dropped, and the new owner reads them again from the store's position.
"""

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from core.errors import RtpathError

logger = logging.getLogger(__name__)

ResumeLookup = Callable[[str, Sequence[int]], Mapping[int, int]]
"""Function of a topic and its partitions that returns the next offset to read for each
partition the store contains rows of. Partitions left out start at `start_when_empty`."""

StartWhenEmpty = Literal["earliest", "latest"]


class KafkaSourceError(RtpathError):
    """Reading a source topic failed in a way a retry does not fix."""


@dataclass
class Batch:
    """Messages of one topic in the order they were read, so offsets rise within a partition."""

    topic: str
    messages: list[Message] = field(default_factory=list)
    opened_at: float = field(default_factory=time.monotonic)
    """`time.monotonic()` when the first message was added."""

    def __len__(self) -> int:
        return len(self.messages)

    def values(self) -> list[bytes]:
        return [message.value() for message in self.messages]  # type: ignore[misc]

    def end_offsets(self) -> dict[int, int]:
        """Return, per partition, the offset after the last message: the next one to read."""
        ends: dict[int, int] = {}
        for message in self.messages:
            ends[message.partition()] = message.offset() + 1  # type: ignore[index,operator]
        return ends

    def split(self, index: int) -> tuple["Batch", "Batch"]:
        """Return the messages before `index` and from `index` on as two batches."""
        return (
            Batch(self.topic, self.messages[:index], self.opened_at),
            Batch(self.topic, self.messages[index:], self.opened_at),
        )


@dataclass(frozen=True)
class SourceTotals:
    """Counters of a reader since it was created."""

    messages: int
    tombstones: int
    dropped_on_revoke: int
    assignments: int


class KafkaBatchReader:
    """Consume topics in a consumer group and hand out batches by row count and by age.

    A batch is due when it contains `max_rows` messages or its first message is `max_wait_ms`
    old. Messages with a null value (tombstones) carry no row; they are counted and skipped.
    Only the eager rebalance protocol is supported (librdkafka's default assignors), because
    the start offsets are set with a full `assign` inside the assignment callback.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topics: Sequence[str],
        group_id: str,
        resume: ResumeLookup,
        *,
        max_rows: int,
        max_wait_ms: int,
        start_when_empty: StartWhenEmpty = "earliest",
        consumer_config: Mapping[str, str | int | float | bool] | None = None,
    ) -> None:
        if not topics:
            raise KafkaSourceError("no source topics given; pass at least one topic name")
        if max_rows < 1 or max_wait_ms < 1:
            raise KafkaSourceError(
                f"max_rows={max_rows} and max_wait_ms={max_wait_ms} must both be at least 1"
            )
        config: dict[str, str | int | float | bool] = {
            "bootstrap.servers": bootstrap_servers,
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": start_when_empty,
            "partition.assignment.strategy": "range,roundrobin",
            # Return fetched data quickly under light load; batching happens here.
            "fetch.wait.max.ms": 20,
        }
        config.update(consumer_config or {})

        if "cooperative" in str(config["partition.assignment.strategy"]):
            raise KafkaSourceError(
                "partition.assignment.strategy "
                f"{config['partition.assignment.strategy']!r} is not supported; "
                "use an eager assignor such as 'range' or 'roundrobin'"
            )

        self.topics = list(topics)
        self.max_rows = max_rows
        self.max_wait_s = max_wait_ms / 1000
        self._resume = resume
        self._start = OFFSET_BEGINNING if start_when_empty == "earliest" else OFFSET_END
        self._buffers: dict[str, Batch] = {}
        self._messages = 0
        self._tombstones = 0
        self._dropped = 0
        self._assignments = 0
        self._revokes = 0
        self._assigned: dict[tuple[str, int], int] = {}

        self._consumer = Consumer(config)
        self._consumer.subscribe(
            self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )  # fmt: skip

    # -- reading ---------------------------------------------------------------

    def read(self, timeout_s: float) -> list[Batch]:
        """Consume until at least one batch is due or `timeout_s` passes; return the due batches.

        Returns an empty list when nothing is due by then. The caller must store every
        returned batch before the next call.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            now = time.monotonic()
            due = self._take_due(now)
            if due:
                return due
            if now >= deadline:
                return []
            wait = deadline - now
            for batch in self._buffers.values():
                wait = min(wait, batch.opened_at + self.max_wait_s - now)
            self._consume(max(wait, 0.0))

    def drain(self) -> list[Batch]:
        """Return every buffered batch, due or not; used on shutdown."""
        batches = [b for b in self._buffers.values() if b.messages]
        self._buffers.clear()
        return batches

    def commit(self, batch: Batch) -> None:
        """Commit the batch's end offsets to Kafka, asynchronously, for lag monitoring only."""
        offsets = [TopicPartition(batch.topic, p, o) for p, o in batch.end_offsets().items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as exc:
            # Resuming never reads these offsets, so a failed commit costs only lag accuracy.
            logger.warning("offset commit for lag monitoring failed on %s: %s", batch.topic, exc)

    def positions(self) -> dict[tuple[str, int], int]:
        """Return the next offset to read of each assigned partition, by (topic, partition).

        That is the start offset of the assignment until the first message is read.
        """
        positions = dict(self._assigned)
        for tp in self._consumer.position(self._consumer.assignment()):
            key = (tp.topic, tp.partition)
            if tp.offset >= 0 and tp.offset > positions.get(key, -1):
                positions[key] = tp.offset
        return positions

    def buffered_rows(self) -> int:
        """Return how many read messages wait in a batch that is not due yet."""
        return sum(len(batch) for batch in self._buffers.values())

    def totals(self) -> SourceTotals:
        return SourceTotals(self._messages, self._tombstones, self._dropped, self._assignments)

    def close(self) -> None:
        """Leave the consumer group; buffered messages are dropped, not committed."""
        self._buffers.clear()
        self._consumer.close()

    def _consume(self, timeout_s: float) -> None:
        revokes_before = self._revokes
        messages = self._consumer.consume(num_messages=self.max_rows, timeout=timeout_s)
        if self._revokes != revokes_before:
            # A rebalance ran inside this call: keep only messages of partitions still owned.
            owned = {(tp.topic, tp.partition) for tp in self._consumer.assignment()}
            messages = [m for m in messages if (m.topic(), m.partition()) in owned]
        for message in messages:
            error = message.error()
            if error is not None:
                self._handle_error(error)
                continue
            if message.value() is None:
                self._tombstones += 1
                continue
            topic: str = message.topic()  # type: ignore[assignment]
            batch = self._buffers.get(topic)
            if batch is None:
                batch = self._buffers[topic] = Batch(topic)
            batch.messages.append(message)
        self._messages += len(messages)

    def _take_due(self, now: float) -> list[Batch]:
        due: list[Batch] = []
        for topic, batch in list(self._buffers.items()):
            if len(batch) >= self.max_rows or now - batch.opened_at >= self.max_wait_s:
                head, rest = batch.split(self.max_rows)
                due.append(head)
                if rest.messages:
                    # The rest keeps the first message's age, so it is due at the same time.
                    self._buffers[topic] = rest
                else:
                    del self._buffers[topic]
        return due

    def _handle_error(self, error: KafkaError) -> None:
        if error.fatal():
            raise KafkaSourceError(f"Kafka consumer failed: {error}")
        # librdkafka retries broker and transport errors on its own; they are worth a line.
        logger.warning("Kafka consumer error (librdkafka retries): %s", error)

    # -- rebalancing -----------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        by_topic: dict[str, list[TopicPartition]] = {}
        for tp in partitions:
            by_topic.setdefault(tp.topic, []).append(tp)
        for topic, tps in by_topic.items():
            positions = self._resume(topic, [tp.partition for tp in tps])
            for tp in tps:
                tp.offset = positions.get(tp.partition, self._start)
        consumer.assign(partitions)
        self._assignments += 1
        self._assigned = {
            (tp.topic, tp.partition): tp.offset for tp in partitions if tp.offset >= 0
        }
        logger.info(
            "assigned %s", ", ".join(f"{tp.topic}[{tp.partition}]@{_offset_text(tp.offset)}"
                                     for tp in partitions) or "no partitions",
        )  # fmt: skip

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        for topic, batch in list(self._buffers.items()):
            kept = [m for m in batch.messages if (topic, m.partition()) not in revoked]
            self._dropped += len(batch) - len(kept)
            batch.messages = kept
            if not kept:
                del self._buffers[topic]
        consumer.unassign()
        self._revokes += 1
        self._assigned = {}
        logger.info("revoked %d partition(s)", len(partitions))


def _offset_text(offset: int) -> str:
    return {OFFSET_BEGINNING: "earliest", OFFSET_END: "latest"}.get(offset, str(offset))


def end_offsets(bootstrap_servers: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
    """Return the end offset (high watermark) of every partition of `topics`."""
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": "rtpath-end-offsets"})
    try:
        metadata = consumer.list_topics(timeout=30)
        ends: dict[tuple[str, int], int] = {}
        for topic in topics:
            if topic not in metadata.topics:
                raise KafkaSourceError(f"topic {topic!r} not found on {bootstrap_servers}")
            for partition in metadata.topics[topic].partitions:
                _, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=30
                )
                ends[(topic, partition)] = high
        return ends
    except KafkaException as exc:
        raise KafkaSourceError(
            f"reading end offsets from {bootstrap_servers} failed: {exc}"
        ) from exc
    finally:
        consumer.close()


def reached_end(reader: KafkaBatchReader, ends: Mapping[tuple[str, int], int]) -> bool:
    """Return whether `reader` has handed out every message before `ends` and buffers none."""
    if reader.buffered_rows():
        return False
    positions = reader.positions()
    return all(positions.get(key, -1) >= end for key, end in ends.items() if end > 0)
