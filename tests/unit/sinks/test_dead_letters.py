"""Dead-letter header decoding; no broker needed."""

import pytest
from confluent_kafka import Message

from sinks.dead_letters import DeadLetter, DeadLetterError


def test_dead_letter_decodes_headers() -> None:
    message = Message(
        topic="flights_enriched.dlq", partition=0, offset=3, value=b"{}",
        headers=[
            ("trace", b"x"),
            ("rtpath.error", "Code: 27. parse failed at 'München'".encode()),
            ("rtpath.sink", b"clickhouse"),
            ("rtpath.source.topic", b"flights_enriched"),
            ("rtpath.source.partition", b"2"),
            ("rtpath.source.offset", b"41"),
            ("rtpath.failed_at", b"1700000000000000"),
        ],
    )  # fmt: skip

    letter = DeadLetter.from_message(message)

    assert letter == DeadLetter(
        error="Code: 27. parse failed at 'München'",
        sink="clickhouse",
        topic="flights_enriched",
        partition=2,
        offset=41,
        failed_at_us=1_700_000_000_000_000,
    )


def test_dead_letter_missing_header_raises() -> None:
    message = Message(topic="x.dlq", partition=0, offset=0, value=b"{}", headers=[])

    with pytest.raises(DeadLetterError, match=r"rtpath\.error"):
        DeadLetter.from_message(message)
