"""Row building, deduplication tokens, error handling and batch splitting of the writer."""

import json
import logging
import re

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from confluent_kafka import Message

from sinks.clickhouse.store import INGEST_TABLES, ClickHouseSinkError
from sinks.clickhouse.writer import BatchWriter, deduplication_token, json_rows
from sinks.kafka_source import Batch


def message(offset: int, value: bytes, partition: int = 0, topic: str = "src") -> Message:
    return Message(topic=topic, partition=partition, offset=offset, value=value)


class FakeClient:
    """Rejects any block with a row containing "bad", naming its row like ClickHouse does."""

    def __init__(self, transient_failures: int = 0, fatal: bool = False) -> None:
        self.blocks: list[tuple[str, list[bytes], str]] = []
        self.transient_failures = transient_failures
        self.fatal = fatal

    def raw_insert(self, table, columns, block, fmt, settings):
        if self.fatal:
            raise DatabaseError("Code: 60. Table x does not exist. (UNKNOWN_TABLE)", code=60)
        if self.transient_failures:
            self.transient_failures -= 1
            raise DatabaseError("Code: 252. Too many parts. (TOO_MANY_PARTS)", code=252)
        rows = block.split(b"\n")
        for number, row in enumerate(rows, start=1):
            if b'"bad"' in row:
                raise DatabaseError(f"Code: 27. Cannot parse input: (at row {number})", code=27)
        self.blocks.append((table, rows, settings["insert_deduplication_token"]))


class FakeDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.flushed = 0

    def send(self, message: Message, error: str) -> None:
        self.sent.append((message.offset(), error))

    def flush(self) -> None:
        self.flushed += 1


def make_writer(client: FakeClient, dead_letters: FakeDeadLetters, sleeps: list[float]):
    return BatchWriter(
        client,
        dead_letters,
        max_attempts=3,
        backoff_s=0.1,
        sleep=sleeps.append,  # type: ignore[arg-type]
    )


def test_json_rows_add_kafka_position() -> None:
    batch = Batch("flights", [message(7, b'{"a":1}', partition=2), message(8, b'{"b":"}"}  \n')])

    rows = json_rows(batch)

    assert [json.loads(row) for row in rows] == [
        {"a": 1, "kafka_topic": "flights", "kafka_partition": 2, "kafka_offset": 7},
        {"b": "}", "kafka_topic": "flights", "kafka_partition": 0, "kafka_offset": 8},
    ]


def test_json_rows_keep_non_objects() -> None:
    batch = Batch("flights", [message(0, b"[1, 2]"), message(1, b"not json ")])

    assert json_rows(batch) == [b"[1, 2]", b"not json"]


def test_token_names_offset_ranges() -> None:
    first = [message(5, b"{}", 0), message(9, b"{}", 1), message(6, b"{}", 0)]
    reordered = [message(9, b"{}", 1), message(5, b"{}", 0), message(6, b"{}", 0)]
    shorter = [message(5, b"{}", 0), message(9, b"{}", 1)]

    assert deduplication_token(first) == deduplication_token(reordered)
    assert deduplication_token(first) != deduplication_token(shorter)
    assert deduplication_token(first).startswith("src/")


def test_writer_isolates_bad_rows() -> None:
    values = [b'{"n":%d}' % i for i in range(10)]
    values[3] = b'{"n":"bad"}'
    values[8] = b'{"n":"bad"}'
    client, dead_letters, sleeps = FakeClient(), FakeDeadLetters(), []
    writer = make_writer(client, dead_letters, sleeps)

    writer.write(Batch("src", [message(i, v) for i, v in enumerate(values)]), "flights_enriched")

    inserted = [json.loads(row)["kafka_offset"] for _, rows, _ in client.blocks for row in rows]
    assert inserted == [0, 1, 2, 4, 5, 6, 7, 9]
    assert [offset for offset, _ in dead_letters.sent] == [3, 8]
    assert all(error.startswith("Code: 27.") for _, error in dead_letters.sent)
    assert dead_letters.flushed == 2
    assert {table for table, _, _ in client.blocks} == {INGEST_TABLES["flights_enriched"]}
    assert writer.totals.rows == 8
    assert writer.totals.dead_letters == 2
    assert sleeps == []


def test_writer_retries_transient_errors(caplog: pytest.LogCaptureFixture) -> None:
    client, dead_letters, sleeps = FakeClient(transient_failures=2), FakeDeadLetters(), []
    writer = make_writer(client, dead_letters, sleeps)
    batch = Batch("src", [message(0, b'{"n":0}')])

    with caplog.at_level(logging.WARNING):
        writer.write(batch, "delays_by_airport_1m")

    assert len(client.blocks) == 1
    assert len(sleeps) == 2
    assert 0.05 <= sleeps[0] <= 0.1
    assert 0.1 <= sleeps[1] <= 0.2
    attempts = re.findall(r"attempt (\d) of (\d)", caplog.text)
    assert attempts == [("1", "3"), ("2", "3")]
    assert writer.totals.retries == 2
    # Every attempt of one insert carries the same token, so a repeat is dropped.
    assert client.blocks[0][2] == deduplication_token(batch.messages)


def test_writer_gives_up_after_attempts() -> None:
    client, dead_letters, sleeps = FakeClient(transient_failures=5), FakeDeadLetters(), []
    writer = make_writer(client, dead_letters, sleeps)

    with pytest.raises(ClickHouseSinkError, match="failed 3 times"):
        writer.write(Batch("src", [message(0, b'{"n":0}')]), "flights_enriched")

    assert len(sleeps) == 2
    assert dead_letters.sent == []


def test_writer_raises_on_fatal_error() -> None:
    client, dead_letters, sleeps = FakeClient(fatal=True), FakeDeadLetters(), []
    writer = make_writer(client, dead_letters, sleeps)

    with pytest.raises(ClickHouseSinkError, match="UNKNOWN_TABLE"):
        writer.write(Batch("src", [message(0, b'{"n":0}')]), "flights_enriched")

    assert sleeps == []
    assert dead_letters.sent == []


def test_connection_error_is_transient() -> None:
    client, dead_letters, sleeps = FakeClient(), FakeDeadLetters(), []
    calls = []

    def refuse_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("Error HTTPConnectionPool: connection refused")
        return FakeClient.raw_insert(client, *args, **kwargs)

    client.raw_insert = refuse_once  # type: ignore[method-assign]
    writer = make_writer(client, dead_letters, sleeps)

    writer.write(Batch("src", [message(0, b'{"n":0}')]), "flights_enriched")

    assert len(client.blocks) == 1
    assert len(sleeps) == 1
