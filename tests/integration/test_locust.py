"""A short headless `rtpath bench locust` run against a real broker and a real query API.

The query API serves an empty store over chDB with the sink's DDL, in this process; Locust
runs as a child process and sends to a topic of this test.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from benchmarks.locust_run import read_stats
from dashboards.server import serve_api
from rtpath.cli import main
from stack.topics import end_offsets
from tests.integration.chdb_store import chdb_path, store_database  # noqa: F401

pytestmark = pytest.mark.integration

DURATION_S = 5
EVENTS_PER_USER = 100
DASHBOARDS = {
    "/dashboards/freshness",
    "/dashboards/delayed_origins",
    "/dashboards/state_delays",
    "/dashboards/airport_delay_trend",
    "/dashboards/busy_routes",
}


@pytest.fixture(scope="module")
def api_url(store_database: Any) -> Iterator[str]:  # noqa: F811
    _, _, factory = store_database
    with serve_api(factory, host="127.0.0.1", port=0) as api:
        yield api.url


@pytest.fixture
def small_flights(tmp_path: Path, artifact_cache: Path) -> Path:
    """The first 20,000 real flights, so Locust's sampler loads in well under a second."""
    real = pq.ParquetFile(artifact_cache / "data" / "flights-3m.parquet")
    path = tmp_path / "flights-20k.parquet"
    pq.write_table(real.read_row_group(0).slice(0, 20_000), path)
    return path


def test_locust_reports_both_user_types(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    api_url: str,
    small_flights: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = make_topic("locust", partitions=2)
    out = tmp_path / "locust"
    monkeypatch.setenv("RTPATH_LOCUST_INPUT", str(small_flights))
    argv = [
        "--kafka-bootstrap", kafka_bootstrap, "bench", "locust", "--api-url", api_url,
        "--duration", str(DURATION_S), "--users", "2", "--spawn-rate", "2",
        "--topic", topic, "--events-per-user", str(EVENTS_PER_USER), "--out", str(out),
    ]  # fmt: skip
    assert main(argv) == 0

    rows = read_stats(out / "locust_stats.csv")
    kafka = [row for row in rows if row.request_type == "kafka"]
    assert [row.name for row in kafka] == [f"produce {topic}"]
    assert kafka[0].requests > 0
    assert kafka[0].failures == 0
    # Locust rewrites the CSV once a second, so it may miss the last deliveries, never
    # count one that did not reach the topic.
    assert end_offsets(kafka_bootstrap, topic) >= kafka[0].requests

    dashboards = [row for row in rows if row.request_type == "GET"]
    assert dashboards, "no dashboard request in the stats"
    for row in dashboards:
        assert row.name in DASHBOARDS, row.name
        assert row.requests > 0, row.name
        assert row.failures == 0, row.name

    aggregated = rows[-1]
    assert aggregated.name == "Aggregated"
    assert aggregated.requests == kafka[0].requests + sum(row.requests for row in dashboards)
    assert (out / "locust.html").read_text().startswith("<!DOCTYPE html>")
