"""Kafka offsets as stored in the Iceberg snapshot summary."""

from sinks.iceberg.offsets import format_offsets, merge_offsets, parse_offsets


def test_offsets_round_trip() -> None:
    offsets = {"flights_enriched": {2: 7, 0: 15}, "delays": {1: 0}}
    text = format_offsets(offsets)
    assert text == '{"delays":{"1":0},"flights_enriched":{"0":15,"2":7}}'
    assert parse_offsets(text) == offsets


def test_merge_offsets_takes_maximum() -> None:
    base = {"a": {0: 10, 1: 20}, "b": {0: 5}}
    merged = merge_offsets(base, {"a": {0: 12, 1: 3, 2: 1}, "c": {4: 4}})
    assert merged == {"a": {0: 12, 1: 20, 2: 1}, "b": {0: 5}, "c": {4: 4}}
    assert base == {"a": {0: 10, 1: 20}, "b": {0: 5}}
