"""The batch reader and the dead-letter writer against a real broker."""

import time
import uuid
from collections.abc import Callable, Mapping, Sequence

import pytest
from confluent_kafka import Consumer, Message, Producer

from core.topics import dead_letter_topic
from sinks.dead_letters import DeadLetter, DeadLetterWriter, ensure_dead_letter_topics
from sinks.kafka_source import Batch, KafkaBatchReader

pytestmark = pytest.mark.integration


def produce(bootstrap: str, topic: str, records: Sequence[tuple[int, bytes | None]]) -> None:
    """Send (partition, value) pairs in order and wait for every acknowledgement."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for partition, value in records:
        producer.produce(topic, value=value, partition=partition)
    assert producer.flush(30) == 0


def read_all(reader: KafkaBatchReader, count: int, timeout_s: float = 30.0) -> list[Batch]:
    batches: list[Batch] = []
    deadline = time.monotonic() + timeout_s
    while sum(len(b) for b in batches) < count and time.monotonic() < deadline:
        batches.extend(reader.read(0.5))
    return batches


def make_reader(
    bootstrap: str, topic: str, resume: Callable[[str, Sequence[int]], Mapping[int, int]],
    **kwargs: object,
) -> KafkaBatchReader:  # fmt: skip
    options: dict[str, object] = {"max_rows": 10, "max_wait_ms": 50}
    options.update(kwargs)
    return KafkaBatchReader(
        bootstrap,
        [topic],
        f"test-{uuid.uuid4().hex[:8]}",
        resume,
        **options,  # type: ignore[arg-type]
    )


def nothing_stored(topic: str, partitions: Sequence[int]) -> dict[int, int]:
    return {}


def test_reader_batches_by_rows(kafka_bootstrap: str, make_topic) -> None:
    topic = make_topic("src", partitions=2)
    records = [(i % 2, f'{{"n":{i}}}'.encode()) for i in range(25)]
    produce(kafka_bootstrap, topic, [*records, (0, None)])
    reader = make_reader(kafka_bootstrap, topic, nothing_stored)
    try:
        batches = read_all(reader, 25)
        totals = reader.totals()
    finally:
        reader.close()

    assert all(len(b) <= 10 for b in batches)
    assert all(b.topic == topic for b in batches)
    received = [m for b in batches for m in b.messages]
    assert sorted(m.value() for m in received) == sorted(v for _, v in records)
    for partition in (0, 1):
        offsets = [m.offset() for m in received if m.partition() == partition]
        assert offsets == list(range(len(offsets)))
    assert totals.tombstones == 1
    assert totals.assignments == 1


def test_reader_flushes_small_batch_by_age(kafka_bootstrap: str, make_topic) -> None:
    topic = make_topic("src")
    produce(kafka_bootstrap, topic, [(0, b'{"n":1}'), (0, b'{"n":2}')])
    reader = make_reader(kafka_bootstrap, topic, nothing_stored, max_rows=1000)
    try:
        batches = read_all(reader, 2)
    finally:
        reader.close()

    assert [m.value() for b in batches for m in b.messages] == [b'{"n":1}', b'{"n":2}']


def test_reader_resumes_from_store(kafka_bootstrap: str, make_topic) -> None:
    topic = make_topic("src", partitions=2)
    produce(kafka_bootstrap, topic, [(p, f'{{"p":{p},"i":{i}}}'.encode())
                                     for i in range(8) for p in (0, 1)])  # fmt: skip
    asked: list[tuple[str, list[int]]] = []

    def stored(name: str, partitions: Sequence[int]) -> dict[int, int]:
        asked.append((name, sorted(partitions)))
        return {0: 5}

    reader = make_reader(kafka_bootstrap, topic, stored)
    try:
        batches = read_all(reader, 3 + 8)
    finally:
        reader.close()

    received = [(m.partition(), m.offset()) for b in batches for m in b.messages]
    assert sorted(received) == [(0, 5), (0, 6), (0, 7)] + [(1, i) for i in range(8)]
    assert asked == [(topic, [0, 1])]


def test_reader_latest_skips_old(kafka_bootstrap: str, make_topic) -> None:
    topic = make_topic("src")
    produce(kafka_bootstrap, topic, [(0, b'{"old":1}')])
    reader = make_reader(kafka_bootstrap, topic, nothing_stored, start_when_empty="latest")
    try:
        while reader.totals().assignments == 0:
            reader.read(0.2)
        produce(kafka_bootstrap, topic, [(0, b'{"new":1}')])
        batches = read_all(reader, 1)
    finally:
        reader.close()

    assert [m.value() for b in batches for m in b.messages] == [b'{"new":1}']


def test_dead_letter_keeps_record_and_error(kafka_bootstrap: str, make_topic) -> None:
    topic = make_topic("src", partitions=3)
    assert ensure_dead_letter_topics(kafka_bootstrap, [topic]) == [dead_letter_topic(topic)]
    assert ensure_dead_letter_topics(kafka_bootstrap, [topic]) == []
    source = Message(
        topic=topic, partition=2, offset=17, key=b"ORD", value='{"origin":"ORD","x":"é"}'.encode(),
        headers=[("trace", b"abc")],
    )  # fmt: skip
    writer = DeadLetterWriter(kafka_bootstrap, sink="clickhouse")
    writer.send(source, "Code: 27. Cannot parse input: expected '\"' before: 'x'")
    writer.flush()

    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": uuid.uuid4().hex,
                         "auto.offset.reset": "earliest"})  # fmt: skip
    consumer.subscribe([dead_letter_topic(topic)])
    try:
        received = None
        deadline = time.monotonic() + 30
        while received is None and time.monotonic() < deadline:
            received = consumer.poll(0.5)
    finally:
        consumer.close()

    assert received is not None
    assert received.error() is None
    assert received.key() == b"ORD"
    assert received.value() == '{"origin":"ORD","x":"é"}'.encode()
    assert (received.headers() or [])[0] == ("trace", b"abc")
    letter = DeadLetter.from_message(received)
    assert letter.error == "Code: 27. Cannot parse input: expected '\"' before: 'x'"
    assert letter.sink == "clickhouse"
    assert (letter.topic, letter.partition, letter.offset) == (topic, 2, 17)
    assert writer.sent == 1


def test_revoke_drops_buffered_rows(kafka_bootstrap: str, make_topic) -> None:
    topic = make_topic("src", partitions=2)
    produce(kafka_bootstrap, topic, [(p, b'{"n":1}') for p in (0, 1) for _ in range(5)])
    group = f"test-{uuid.uuid4().hex[:8]}"
    options = {"max_rows": 1000, "max_wait_ms": 600_000}
    first = KafkaBatchReader(kafka_bootstrap, [topic], group, nothing_stored, **options)
    second = None
    try:
        deadline = time.monotonic() + 30
        while first.totals().messages < 10 and time.monotonic() < deadline:
            assert first.read(0.2) == []
        second = KafkaBatchReader(kafka_bootstrap, [topic], group, nothing_stored, **options)
        while second.totals().messages < 5 and time.monotonic() < deadline:
            first.read(0.2)
            second.read(0.2)
        while first.totals().messages < 15 and time.monotonic() < deadline:
            first.read(0.2)
        first_totals = first.totals()
        second_totals = second.totals()
    finally:
        first.close()
        if second is not None:
            second.close()

    # The eager protocol revokes both partitions, so the first reader drops all 10 buffered
    # rows and reads the 5 of the partition it keeps again from the (empty) store position.
    assert first_totals.dropped_on_revoke == 10
    assert first_totals.messages == 15
    assert second_totals.messages == 5
    assert second_totals.dropped_on_revoke == 0
