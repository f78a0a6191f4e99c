"""Insert batches of Kafka messages into ClickHouse, split rejected batches, retry transient errors.

Each message value is one JSON object. The writer appends the message's `kafka_topic`,
`kafka_partition` and `kafka_offset` to the object's bytes and inserts the joined rows as one
JSONEachRow block, so no row is decoded in Python.

When ClickHouse rejects a block for its data, the writer splits it and inserts the parts,
left to right, until the bad rows are isolated. Each bad row goes to `<topic>.dlq` with the
server's error, and that dead letter is acknowledged before any later row of the batch is
inserted. So after a crash the store never contains an offset past a rejected row that has
no dead letter yet.
"""

import hashlib
import itertools
import logging
import random
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError
from confluent_kafka import Message

from sinks.clickhouse.store import (
    ClickHouseSinkError,
    InsertErrorKind,
    classify_error,
    insert_json_rows,
)
from sinks.dead_letters import DeadLetterWriter
from sinks.kafka_source import Batch

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
LATENCY_SAMPLES = 100_000

# ClickHouse names the 1-based row of a parse error, for example "(at row 5000)".
_ERROR_ROW = re.compile(r"\(at row (\d+)\)")


@dataclass
class WriterTotals:
    """Counters of a writer since it was created."""

    rows: int = 0
    inserts: int = 0
    dead_letters: int = 0
    retries: int = 0


class BatchWriter:
    """Write batches to the ClickHouse table of their topic; one writer per client and thread."""

    def __init__(
        self,
        client: Client,
        dead_letters: DeadLetterWriter,
        *,
        max_attempts: int,
        backoff_s: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.totals = WriterTotals()
        self.insert_seconds: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        """Duration of each successful insert, the most recent `LATENCY_SAMPLES` of them."""
        self._client = client
        self._dead_letters = dead_letters
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._sleep = sleep

    def write(self, batch: Batch, table: str) -> None:
        """Insert every row of `batch` into `table`, or send it to the dead-letter topic.

        Raises `ClickHouseSinkError` when ClickHouse fails for a reason other than the rows,
        or keeps failing transiently for `max_attempts` attempts.
        """
        rows = json_rows(batch)
        self._write_range(batch.messages, rows, 0, len(rows), table)

    def _write_range(
        self, messages: list[Message], rows: list[bytes], start: int, stop: int, table: str
    ) -> None:
        error = self._insert(table, messages[start:stop], b"\n".join(rows[start:stop]))
        if error is None:
            self.totals.rows += stop - start
            return
        if stop - start == 1:
            self._dead_letters.send(messages[start], str(error))
            self._dead_letters.flush()
            self.totals.dead_letters += 1
            return

        # Split at the row the error names when it is in range, else in the middle.
        match = _ERROR_ROW.search(str(error))
        bad = start + int(match.group(1)) - 1 if match else -1
        if start <= bad < stop:
            bounds = [start, bad, bad + 1, stop]
        else:
            middle = (start + stop) // 2
            bounds = [start, middle, stop]
        for low, high in itertools.pairwise(bounds):
            if low < high:
                self._write_range(messages, rows, low, high, table)

    def _insert(self, table: str, messages: list[Message], block: bytes) -> ClickHouseError | None:
        """Insert `block`, retrying transient errors; return the error if the data is rejected."""
        token = deduplication_token(messages)
        for attempt in range(1, self._max_attempts + 1):
            started = time.perf_counter()
            try:
                insert_json_rows(self._client, table, block, token)
            except ClickHouseError as exc:
                kind = classify_error(exc)
                if kind is InsertErrorKind.DATA:
                    return exc
                if kind is InsertErrorKind.FATAL:
                    raise ClickHouseSinkError(
                        f"insert of {len(messages)} rows into {table} failed: {exc}"
                    ) from exc
                if attempt == self._max_attempts:
                    raise ClickHouseSinkError(
                        f"insert of {len(messages)} rows into {table} failed "
                        f"{self._max_attempts} times, last with: {exc}. Check that ClickHouse "
                        "is up and not overloaded; the sink resumes from the stored offsets"
                    ) from exc
                delay = min(MAX_BACKOFF_S, self._backoff_s * 2 ** (attempt - 1))
                delay *= random.uniform(0.5, 1.0)
                logger.warning(
                    "insert into %s failed (attempt %d of %d), retrying in %.2f s: %s",
                    table, attempt, self._max_attempts, delay, exc,
                )  # fmt: skip
                self.totals.retries += 1
                self._sleep(delay)
            else:
                self.insert_seconds.append(time.perf_counter() - started)
                self.totals.inserts += 1
                return None
        raise AssertionError("unreachable: the last attempt returns or raises")


def json_rows(batch: Batch) -> list[bytes]:
    """Return each message value with `kafka_topic`, `kafka_partition` and `kafka_offset` added.

    A value that does not end in `}` after trailing whitespace is not a JSON object. It is
    kept as it is, so ClickHouse rejects it and the row goes to the dead-letter topic with the
    server's error.
    """
    topic = batch.topic.encode()
    rows: list[bytes] = []
    for message in batch.messages:
        value: bytes = message.value()  # type: ignore[assignment]
        if value[-1:] != b"}":
            value = value.rstrip()
            if value[-1:] != b"}":
                rows.append(value)
                continue
        rows.append(
            b'%s,"kafka_topic":"%s","kafka_partition":%d,"kafka_offset":%d}'
            % (value[:-1], topic, message.partition(), message.offset())  # type: ignore[str-format]
        )
    return rows


def deduplication_token(messages: list[Message]) -> str:
    """Return a token that names the rows by topic and first and last offset per partition.

    Offsets of a partition are read in order, so equal ranges mean equal rows.
    """
    ranges: dict[int, list[int]] = {}
    for message in messages:
        offset: int = message.offset()  # type: ignore[assignment]
        span = ranges.get(message.partition())  # type: ignore[arg-type]
        if span is None:
            ranges[message.partition()] = [offset, offset]  # type: ignore[index]
        else:
            span[1] = offset
    text = ";".join(f"{p}:{first}-{last}" for p, (first, last) in sorted(ranges.items()))
    topic = messages[0].topic() if messages else ""
    return f"{topic}/" + hashlib.sha1(text.encode()).hexdigest()
