"""Batch bookkeeping of the Kafka reader; no broker needed."""

from confluent_kafka import Message

from sinks.kafka_source import Batch


def message(partition: int, offset: int, value: bytes = b"{}") -> Message:
    return Message(topic="t", partition=partition, offset=offset, value=value)


def test_end_offsets_per_partition() -> None:
    batch = Batch("t", [message(0, 5), message(1, 9), message(0, 6), message(1, 10)])

    assert batch.end_offsets() == {0: 7, 1: 11}


def test_split_keeps_order_and_age() -> None:
    batch = Batch("t", [message(0, i) for i in range(5)], opened_at=12.5)

    head, rest = batch.split(2)

    assert [m.offset() for m in head.messages] == [0, 1]
    assert [m.offset() for m in rest.messages] == [2, 3, 4]
    assert head.opened_at == 12.5
    assert rest.opened_at == 12.5
    assert len(batch) == 5


def test_values_in_read_order() -> None:
    batch = Batch("t", [message(0, 0, b"a"), message(1, 0, b"b")])

    assert batch.values() == [b"a", b"b"]
