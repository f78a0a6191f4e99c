"""Rows that fail a check land in the dead-letter topic with their reason."""

from collections.abc import Callable
from pathlib import Path

import pytest

from core.topics import dead_letter_topic
from producers.launcher import run_flights
from tests.integration.producers.conftest import decode_flight, headers_of, read_topic

pytestmark = pytest.mark.integration

GOOD = "2001-01-01 00:01:00,5,800,ORD,DFW"
CSV_LINES = [
    "date,delay,distance,origin,destination",
    GOOD,  # row 0
    "2001-01-01 00:02:00,7,800",  # row 1: missing column
    "2001-01-01 00:03:00,7,800,ORD,DFW,extra",  # row 2: unparseable row
    "2001-01-01 00:04:00,,900,ATL,",  # row 3: missing value (destination)
    "2001-01-01 00:05:00,abc,900,ATL,MCO",  # row 4: wrong type (delay)
    "2001-01-01 00:06:00,3,-5,ATL,MCO",  # row 5: out of range (distance)
    "2001-01-01 00:07:00,,1200," + "X" * 3000 + ",LAX",  # row 6: too large
    "not a date,1,100,SEA,SFO",  # row 7: wrong type (date)
    "2001-01-01 00:08:00,99999999999,100,SEA,SFO",  # row 8: out of range (delay)
    "2001-01-01T00:09:00,,120,SEA,SFO",  # row 9: good, null delay
]
EXPECTED = {
    1: "missing_column",
    2: "unparseable_row",
    3: "missing_value",
    4: "wrong_type",
    5: "out_of_range",
    6: "too_large",
    7: "wrong_type",
    8: "out_of_range",
}


def test_each_bad_row_dead_lettered(
    tmp_path: Path,
    kafka_bootstrap: str,
    flight_topics: Callable[..., str],
    flight_settings: Callable[..., object],
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(CSV_LINES) + "\n")
    topic = flight_topics(partitions=1, config={"max.message.bytes": "2048"})

    summary = run_flights(flight_settings(topic=topic, input=path))  # type: ignore[arg-type]

    good = [decode_flight(m.value()) for m in read_topic(kafka_bootstrap, topic)]
    assert [r["event_id"].rsplit("-", 1)[1] for r in good] == ["0", "9"]
    assert good[0]["delay_minutes"] == 5
    assert good[1]["delay_minutes"] is None
    dead = read_topic(kafka_bootstrap, dead_letter_topic(topic))
    headers = {int(headers_of(m)["source_row"]): headers_of(m) for m in dead}
    assert len(dead) == len(EXPECTED)
    assert {row: h["reason"] for row, h in headers.items()} == EXPECTED
    assert headers[3]["error"] == "destination: value is missing"
    assert headers[4]["error"] == "delay: not an integer"
    assert headers[5]["error"] == "distance: outside 0 to 2147483647"
    assert headers[1]["error"] == "row has 3 fields, fewer than the 5 columns of the header"
    assert all(h["source_file"] == str(path) for h in headers.values())
    dead_values = {int(headers_of(m)["source_row"]): m.value() for m in dead}
    assert dead_values[1] == b"2001-01-01 00:02:00,7,800"
    assert b'"delay": "abc"' in dead_values[4]
    assert summary.counters.delivered == 2
    assert summary.counters.rejected == 8
    assert summary.counters.dead_lettered == 8
    assert summary.counters.lost == 0
