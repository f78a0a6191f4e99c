"""Generated `flights_enriched` JSON rows for the sink benchmarks, written to Kafka.

The rows are plausible and deterministic (row `i` is always the same), with some nulls
and unknown airports, so both sinks are measured on the same input.
"""

import json
import uuid

from confluent_kafka import Producer

from core.errors import RtpathError

BASE_EVENT_MS = 1_700_000_000_000
ORIGINS = ("ORD", "DFW", "ATL", "LAX", "SFO", "DEN", "PHX", "IAH", "LAS", "DTW")
CITIES = ("Chicago", "Dallas-Fort Worth", "Atlanta", "Los Angeles", "San Francisco",
          "Denver", "Phoenix", "Houston", "Las Vegas", "Detroit")  # fmt: skip
STATES = ("IL", "TX", "GA", "CA", "CA", "CO", "AZ", "TX", "NV", "MI")


def flight_json(i: int) -> bytes:
    """Return flight `i` as Flink's JSON row, with plausible values and some nulls."""
    origin = i % len(ORIGINS)
    destination = (i * 7 + 3) % len(ORIGINS)
    event_ms = BASE_EVENT_MS + i
    unknown = i % 97 == 0
    row = {
        "event_id": f"{uuid.UUID(int=i)}",
        "departure": f"2001-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00",
        "origin": ORIGINS[origin],
        "destination": ORIGINS[destination],
        "delay_minutes": None if i % 53 == 0 else (i * 31) % 240 - 40,
        "distance_miles": 200 + (i * 13) % 2500,
        "origin_city": None if unknown else CITIES[origin],
        "origin_state": None if unknown else STATES[origin],
        "origin_latitude": None if unknown else 41.97 + origin / 10,
        "origin_longitude": None if unknown else -87.9 - origin / 10,
        "destination_city": CITIES[destination],
        "destination_state": STATES[destination],
        "destination_latitude": 32.9 + destination / 10,
        "destination_longitude": -97.04 - destination / 10,
        "great_circle_miles": None if unknown else 801.3 + (i % 1000) / 7,
        "event_time": event_ms,
        "produced_at": event_ms * 1000 + 123,
        "enriched_at": event_ms * 1000 + 9_123,
        "is_synthetic": True,
        "replay_round": 0,
    }
    return json.dumps(row).encode()


def produce_flights(bootstrap: str, topic: str, rows: int, partitions: int) -> None:
    """Write rows 0 to `rows - 1` round-robin over `partitions` and wait for delivery."""
    producer = Producer({
        "bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 20,
        "batch.size": 1_000_000, "compression.type": "lz4",
        "queue.buffering.max.messages": 500_000,
    })  # fmt: skip
    for i in range(rows):
        while True:
            try:
                producer.produce(topic, value=flight_json(i), partition=i % partitions)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    remaining = producer.flush(120)
    if remaining:
        raise RtpathError(f"{remaining} benchmark rows were not delivered to {topic}")
