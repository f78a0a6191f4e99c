"""Each dashboard returns exactly the rows computed in Python from known data, through the API."""

import math
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from dashboards.api import create_app
from dashboards.catalog import load_dashboards
from dashboards.limits import QueryLimits
from dashboards.store import ReadOnlyStore
from tests.integration.chdb_store import chdb_path, store_database  # noqa: F401
from tests.integration.flight_rows import (
    FLIGHT_COLUMNS,
    UNTIL,
    WINDOW_COLUMNS,
    Flight,
    make_flights,
    make_windows,
)

pytestmark = pytest.mark.integration

FLIGHTS = make_flights()
UNTIL_TEXT = UNTIL.isoformat()


@pytest.fixture(scope="module")
def api(store_database: Any) -> Iterator[TestClient]:  # noqa: F811
    _, writer, factory = store_database
    writer.insert("flights_enriched", [f.row(i) for i, f in enumerate(FLIGHTS)],
                  column_names=FLIGHT_COLUMNS)  # fmt: skip
    first, again = make_windows()
    writer.insert("delays_by_airport_1m", first, column_names=WINDOW_COLUMNS)
    writer.insert("delays_by_airport_1m", again, column_names=WINDOW_COLUMNS)
    store = ReadOnlyStore(factory, QueryLimits())
    with TestClient(create_app(store, load_dashboards())) as client:
        yield client
    store.close()


def run(api: TestClient, name: str, **params: str) -> dict[str, Any]:
    response = api.get(f"/dashboards/{name}", params={"until": UNTIL_TEXT, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def in_window(flight: Flight, minutes: int) -> bool:
    return UNTIL - timedelta(minutes=minutes) <= flight.event_time < UNTIL


def average(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def delays(flights: list[Flight]) -> list[int]:
    return [f.delay_minutes for f in flights if f.delay_minutes is not None]


def test_delayed_origins_rows(api: TestClient) -> None:
    groups: dict[str, list[Flight]] = defaultdict(list)
    for flight in FLIGHTS:
        if in_window(flight, 15):
            groups[flight.origin].append(flight)
    expected: list[list[Any]] = []
    for origin, flights in groups.items():
        if len(flights) < 2:
            continue
        values = delays(flights)
        expected.append([
            origin, flights[0].row(0)[6], len(flights), sum(d >= 15 for d in values),
            average(values), max(values, default=None),
        ])  # fmt: skip
    expected.sort(key=lambda row: (row[4] is None, -(row[4] or 0), row[0]))

    body = run(api, "delayed_origins", minutes="15", min_flights="2", limit="4")

    assert body["columns"] == ["origin", "origin_city", "flights", "delayed_flights",
                               "avg_delay_minutes", "max_delay_minutes"]  # fmt: skip
    assert body["rows"] == expected[:4]
    assert body["rows_read"] > 0


def test_delayed_origins_window_bounds(api: TestClient) -> None:
    body = run(api, "delayed_origins", minutes="15", min_flights="1", limit="100")
    atl = next(row for row in body["rows"] if row[0] == "ATL")
    expected = [f for f in FLIGHTS if f.origin == "ATL" and in_window(f, 15)]
    assert any(f.event_time == UNTIL - timedelta(minutes=15) for f in expected)
    assert atl[2] == len(expected)


def test_busy_routes_rows(api: TestClient) -> None:
    groups: dict[tuple[str, str], list[Flight]] = defaultdict(list)
    for flight in FLIGHTS:
        if in_window(flight, 60):
            groups[(flight.origin, flight.destination)].append(flight)
    expected: list[list[Any]] = []
    for (origin, destination), flights in groups.items():
        values = delays(flights)
        expected.append([
            origin, destination, len(flights), sum(d >= 15 for d in values) / len(flights),
            average(values), flights[0].distance_miles,
        ])  # fmt: skip
    expected.sort(key=lambda row: (-row[2], row[0], row[1]))

    body = run(api, "busy_routes", minutes="60", limit="8")

    assert body["columns"] == ["origin", "destination", "flights", "delayed_share",
                               "avg_delay_minutes", "distance_miles"]  # fmt: skip
    assert body["rows"] == expected[:8]


def test_airport_delay_trend_rows(api: TestClient) -> None:
    first, again = make_windows()
    latest: dict[datetime, list[Any]] = {}
    for window in first + again:  # re-deliveries come later and replace
        if window[0] == "ORD" and UNTIL - timedelta(minutes=60) <= window[1] < UNTIL:
            latest[window[1]] = window
    expected = [
        [start.isoformat(), w[3], w[4], w[4] / w[3], w[5], w[6]]
        for start, w in sorted(latest.items())
    ]

    body = run(api, "airport_delay_trend", airport="ORD")

    assert body["columns"] == ["window_start", "flights", "delayed_flights", "delayed_share",
                               "avg_delay_minutes", "max_delay_minutes"]  # fmt: skip
    assert len(body["rows"]) == 60
    assert body["rows"] == expected


def test_state_delays_rows(api: TestClient) -> None:
    by_state: dict[str, list[Flight]] = defaultdict(list)
    for flight in FLIGHTS:
        if UNTIL - timedelta(seconds=60) <= flight.event_time < UNTIL:
            by_state[flight.row(0)[7] or ""].append(flight)
    expected: list[list[Any]] = []
    for state, flights in by_state.items():
        values = delays(flights)
        delayed = sum(d >= 15 for d in values)
        expected.append([state, len(flights), delayed, delayed / len(flights),
                         average(values), max(values, default=None)])  # fmt: skip
    expected.sort(key=lambda row: (-row[1], row[0]))

    body = run(api, "state_delays")

    assert body["columns"] == ["state", "flights", "delayed_flights", "delayed_share",
                               "avg_delay_minutes", "max_delay_minutes"]  # fmt: skip
    assert body["rows"] == expected


def test_freshness_percentiles(api: TestClient) -> None:
    visible = [f for f in FLIGHTS if UNTIL - timedelta(seconds=60) <= f.inserted_at < UNTIL]
    latencies = sorted((f.inserted_at - f.produced_at) / timedelta(milliseconds=1) for f in visible)

    def nearest_rank(level: float) -> float:
        return latencies[math.ceil(level * len(latencies)) - 1]

    body = run(api, "freshness")

    assert len(visible) == 101
    assert body["columns"] == ["row_count", "p50_ms", "p95_ms", "p99_ms", "max_ms"]
    assert body["rows"] == [
        [101, nearest_rank(0.5), nearest_rank(0.95), nearest_rank(0.99), latencies[-1]]
    ]


def test_until_defaults_to_now(api: TestClient) -> None:
    response = api.get("/dashboards/freshness")
    assert response.status_code == 200, response.text
    assert response.json()["rows"][0][0] == 0  # the known rows are in January 2026
