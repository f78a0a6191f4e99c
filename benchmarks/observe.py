"""Read the state of a running path: Kafka offsets, ClickHouse through the query API,
Iceberg through its catalog, and client-side dashboard query latency.

The demo and the end-to-end benchmark both measure with these, so their figures are
computed the same way. Freshness and window lag come from SQL over every row of an
interval, and query latency from the client, counted from each request's intended start.
"""

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.errors import RtpathError

logger = logging.getLogger(__name__)

HTTP_TIMEOUT_S = 30.0

FRESHNESS_SQL = """
SELECT
    count() AS row_count,
    quantileExact(0.5)(freshness_ms),
    quantileExact(0.95)(freshness_ms),
    quantileExact(0.99)(freshness_ms),
    max(freshness_ms)
FROM
(
    SELECT dateDiff('microsecond', produced_at, inserted_at) / 1000 AS freshness_ms
    FROM flights_enriched
    WHERE event_time >= fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND event_time < fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
)
"""

WINDOW_LAG_SQL = """
SELECT
    count() AS row_count,
    quantileExact(0.5)(lag_ms),
    quantileExact(0.95)(lag_ms),
    quantileExact(0.99)(lag_ms),
    max(lag_ms)
FROM
(
    SELECT dateDiff('microsecond', window_end, min(inserted_at)) / 1000 AS lag_ms
    FROM delays_by_airport_1m
    WHERE window_end >= fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND window_end <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
    GROUP BY origin, window_start, window_end
)
"""

FRESHNESS_QUANTILES_SQL = """
SELECT quantilesExact({levels})(dateDiff('microsecond', produced_at, inserted_at) / 1000)
FROM flights_enriched
WHERE event_time >= fromUnixTimestamp64Milli({{start_ms:Int64}}, 'UTC')
  AND event_time < fromUnixTimestamp64Milli({{end_ms:Int64}}, 'UTC')
"""

ROW_COUNT_SQL = "SELECT count() FROM flights_enriched"

COUNTS_SQL = """
SELECT
    (SELECT count() FROM flights_enriched) AS enriched_rows,
    (SELECT uniqExact(event_id) FROM flights_enriched) AS distinct_event_ids,
    (SELECT count() FROM delays_by_airport_1m FINAL) AS windows
"""


# One refresh of every dashboard, with a value for each parameter that has no default.
DASHBOARD_REQUESTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("freshness", {}),
    ("delayed_origins", {}),
    ("state_delays", {}),
    ("airport_delay_trend", {"airport": "ORD"}),
    ("busy_routes", {}),
)


class ObserveError(RtpathError):
    """A measurement could not be taken from the running path."""


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    """Return p50, p95, p99 (nearest rank), max and count of `values`."""
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}
    ordered = sorted(values)

    def rank(percent: float) -> float:
        return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99), "max": ordered[-1],
            "count": len(ordered)}  # fmt: skip


class ApiClient:
    """A client of the read-only query API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=HTTP_TIMEOUT_S)

    def close(self) -> None:
        self.http.close()

    def healthy(self) -> bool:
        try:
            return self.http.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> list[list[Any]]:
        """Run one read-only statement and return its rows."""
        body = {"sql": sql, "parameters": {k: str(v) for k, v in (parameters or {}).items()}}
        try:
            response = self.http.post("/query", json=body)
        except httpx.HTTPError as exc:
            raise ObserveError(f"query API at {self.base_url} failed: {exc}") from exc
        if response.status_code != 200:
            raise ObserveError(f"query API returned {response.status_code}: {response.text[:300]}")
        rows: list[list[Any]] = response.json()["rows"]
        return rows

    def run_dashboard(self, name: str, parameters: dict[str, str]) -> int:
        """Run dashboard `name` and return the HTTP status."""
        return self.http.get(f"/dashboards/{name}", params=parameters).status_code


def _distribution(row: list[Any]) -> dict[str, float | int | None]:
    count = int(row[0])
    if count == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}
    return {"p50": float(row[1]), "p95": float(row[2]), "p99": float(row[3]),
            "max": float(row[4]), "count": count}  # fmt: skip


def freshness_ms(api: ApiClient, start_ms: int, end_ms: int) -> dict[str, float | int | None]:
    """Freshness (inserted_at minus produced_at) over every row sent in [start_ms, end_ms)."""
    return _distribution(api.query(FRESHNESS_SQL, {"start_ms": start_ms, "end_ms": end_ms})[0])


def window_lag_ms(api: ApiClient, start_ms: int, end_ms: int) -> dict[str, float | int | None]:
    """Lag from window end to the first visible version of each window ending in the interval."""
    return _distribution(api.query(WINDOW_LAG_SQL, {"start_ms": start_ms, "end_ms": end_ms})[0])


def freshness_quantiles_ms(
    api: ApiClient, start_ms: int, end_ms: int, levels: Sequence[float]
) -> list[float]:
    """Freshness at each quantile level in `levels` (0 to 1) over the rows sent in the interval.

    Returns an empty list when no row was sent in the interval.
    """
    sql = FRESHNESS_QUANTILES_SQL.format(levels=", ".join(f"{level:g}" for level in levels))
    values = api.query(sql, {"start_ms": start_ms, "end_ms": end_ms})[0][0]
    if not values:
        return []
    return [float(value) for value in values]


def clickhouse_rows(api: ApiClient) -> int:
    """Rows of flights_enriched in ClickHouse; cheap, because count() reads part metadata."""
    return int(api.query(ROW_COUNT_SQL)[0][0])


def clickhouse_counts(api: ApiClient) -> dict[str, int]:
    """Rows, distinct event ids and deduplicated windows stored in ClickHouse."""
    enriched, distinct, windows = api.query(COUNTS_SQL)[0]
    return {"rows": int(enriched), "distinct_event_ids": int(distinct), "windows": int(windows)}


@dataclass
class QuerySampler:
    """Run the dashboards round-robin through the API on a fixed schedule in a thread.

    Latency counts from each request's intended start, so a stalled request delays the
    ones behind it and shows up in their latency too (open-loop measurement).
    """

    api_url: str
    interval_s: float = 0.2
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="query-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HTTP_TIMEOUT_S)

    def _run(self) -> None:
        api = ApiClient(self.api_url)
        try:
            intended = time.monotonic()
            index = 0
            while not self._stop.is_set():
                delay = intended - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
                name, parameters = DASHBOARD_REQUESTS[index % len(DASHBOARD_REQUESTS)]
                status = api.run_dashboard(name, parameters)
                if status == 200:
                    self.latencies_ms.append((time.monotonic() - intended) * 1000)
                else:
                    self.errors += 1
                    logger.warning("dashboard %s returned HTTP %d", name, status)
                index += 1
                intended += self.interval_s
        except httpx.HTTPError as exc:
            self.errors += 1
            logger.error("query sampler stopped: %s", exc)
        finally:
            api.close()


def iceberg_rows(data_dir: str, cache_dir: str | None = None) -> int:
    """Rows of the Iceberg flights table, from its current snapshot's summary (no scan)."""
    from pyiceberg.exceptions import NoSuchTableError

    from core.settings import load_settings
    from sinks.iceberg.catalog import open_catalog
    from sinks.iceberg.settings import IcebergSettings

    settings = load_settings(IcebergSettings, data_dir=data_dir, cache_dir=cache_dir)
    try:
        table = open_catalog(settings).load_table((settings.iceberg_namespace, "flights_enriched"))
    except NoSuchTableError:
        return 0
    snapshot = table.current_snapshot()
    if snapshot is None or snapshot.summary is None:
        return 0
    return int(snapshot.summary["total-records"] or 0)


def iceberg_counts(data_dir: str, cache_dir: str | None = None) -> dict[str, int]:
    """Rows and distinct event ids of the Iceberg flights table, and rows of the windows table.

    Reads the current snapshots through the same catalog settings the Iceberg sink uses.
    """
    import pyarrow.compute as pc
    from pyiceberg.exceptions import NoSuchTableError

    from core.settings import load_settings
    from sinks.iceberg.catalog import open_catalog
    from sinks.iceberg.settings import IcebergSettings

    settings = load_settings(IcebergSettings, data_dir=data_dir, cache_dir=cache_dir)
    catalog = open_catalog(settings)
    counts = {"rows": 0, "distinct_event_ids": 0, "windows": 0}
    try:
        flights = catalog.load_table((settings.iceberg_namespace, "flights_enriched"))
        event_ids = flights.scan(selected_fields=("event_id",)).to_arrow()["event_id"]
        counts["rows"] = len(event_ids)
        counts["distinct_event_ids"] = len(pc.unique(event_ids))
        windows = catalog.load_table((settings.iceberg_namespace, "delays_by_airport_1m"))
        counts["windows"] = windows.scan(selected_fields=("origin",)).to_arrow().num_rows
    except NoSuchTableError:
        pass
    return counts
