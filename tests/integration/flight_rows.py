"""Known rows for dashboard tests, built around one fixed end time `UNTIL`."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

UNTIL = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)

AIRPORTS = {
    "ORD": ("Chicago", "IL"),
    "MDW": ("Chicago", "IL"),
    "DFW": ("Dallas-Fort Worth", "TX"),
    "ATL": ("Atlanta", "GA"),
    "SJU": ("San Juan, Aeropuerto Luis Muñoz Marín", "PR"),
    "XXX": (None, None),  # not in the airports dimension
}

FLIGHT_COLUMNS = [
    "event_id", "departure", "origin", "destination", "delay_minutes", "distance_miles",
    "origin_city", "origin_state", "destination_city", "destination_state", "event_time",
    "produced_at", "enriched_at", "is_synthetic", "replay_round", "kafka_topic",
    "kafka_partition", "kafka_offset", "inserted_at",
]  # fmt: skip

WINDOW_COLUMNS = [
    "origin", "window_start", "window_end", "flights", "delayed_flights", "avg_delay_minutes",
    "max_delay_minutes", "max_produced_at", "emitted_at", "kafka_topic", "kafka_partition",
    "kafka_offset",
]  # fmt: skip


@dataclass(frozen=True)
class Flight:
    event_id: str
    origin: str
    destination: str
    delay_minutes: int | None
    distance_miles: int
    event_time: datetime
    inserted_at: datetime

    @property
    def produced_at(self) -> datetime:
        return self.event_time

    def row(self, offset: int) -> list[Any]:
        origin_city, origin_state = AIRPORTS[self.origin]
        destination_city, destination_state = AIRPORTS[self.destination]
        return [
            self.event_id, datetime(2001, 1, 1, 8, 30, tzinfo=UTC), self.origin,
            self.destination, self.delay_minutes, self.distance_miles, origin_city,
            origin_state, destination_city, destination_state, self.event_time,
            self.produced_at, self.event_time + timedelta(milliseconds=1), False, 0,
            "flights_enriched", 0, offset, self.inserted_at,
        ]  # fmt: skip


def make_flights(seed: int = 7) -> list[Flight]:
    """Flights over the 70 minutes before UNTIL, plus boundary rows.

    Exactly 101 rows become visible (`inserted_at`) in the last minute before UNTIL, so
    nearest-rank percentiles of their freshness are unambiguous.
    """
    rng = random.Random(seed)
    codes = list(AIRPORTS)
    flights: list[Flight] = []

    def add(event_time: datetime, latency_us: int, origin: str | None = None) -> None:
        origin = origin or rng.choice([*codes[:5], "ORD", "ORD", "DFW", "XXX"])
        destination = rng.choice([c for c in codes if c != origin])
        delay = rng.choice([None, -12, -3, 0, 5, 14, 15, 16, 45, 120, 1688, -1116])
        flights.append(
            Flight(
                event_id=f"e{len(flights):05d}",
                origin=origin,
                destination=destination,
                delay_minutes=delay,
                distance_miles=100 * (codes.index(origin) + codes.index(destination) + 1),
                event_time=event_time,
                inserted_at=event_time + timedelta(microseconds=latency_us),
            )
        )

    for _ in range(101):  # visible in [UNTIL - 60 s, UNTIL)
        add(UNTIL - timedelta(milliseconds=rng.randint(2_000, 59_000)), rng.randint(1_000, 900_000))
    for _ in range(300):  # earlier, visible before the last minute
        add(UNTIL - timedelta(seconds=rng.randint(120, 70 * 60)), rng.randint(1_000, 900_000))
    add(UNTIL - timedelta(minutes=15), 5_000, origin="ATL")  # first instant of a 15-minute window
    add(UNTIL, 5_000, origin="ATL")  # end instant, outside every window ending at UNTIL
    return flights


def make_windows() -> tuple[list[list[Any]], list[list[Any]]]:
    """Windows of ORD and DFW from UNTIL - 70 min to UNTIL + 5 min, and later re-deliveries.

    Returns (first deliveries, re-deliveries of three ORD windows with other values).
    """
    first, again = [], []
    for minute in range(-70, 5):
        for origin in ("ORD", "DFW"):
            start = UNTIL + timedelta(minutes=minute)
            flights = 10 + (minute % 7) + (3 if origin == "DFW" else 0)
            avg = None if minute % 11 == 0 else (minute % 13) * 1.5
            first.append(_window(origin, start, flights, flights // 3, avg, emitted_s=1))
            if origin == "ORD" and minute in (-60, -30, -1):
                again.append(_window(origin, start, flights + 100, 7, 99.5, emitted_s=2))
    return first, again


def _window(
    origin: str, start: datetime, flights: int, delayed: int, avg: float | None, emitted_s: int
) -> list[Any]:
    end = start + timedelta(minutes=1)
    max_delay = None if avg is None else int(avg) + 10
    return [origin, start, end, flights, delayed, avg, max_delay, end,
            end + timedelta(seconds=emitted_s), "delays_by_airport_1m", 0, 0]  # fmt: skip
