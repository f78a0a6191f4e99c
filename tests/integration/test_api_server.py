"""The API served by uvicorn on a free loopback port, called through `rtpath query`."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dashboards.server import ApiServer, serve_api
from rtpath.cli import main
from tests.conftest import free_port
from tests.integration.chdb_store import chdb_path, store_database  # noqa: F401
from tests.integration.flight_rows import FLIGHT_COLUMNS, UNTIL, make_flights

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(store_database: Any) -> Iterator[ApiServer]:  # noqa: F811
    _, writer, factory = store_database
    flights = make_flights()
    writer.insert("flights_enriched", [f.row(i) for i, f in enumerate(flights)],
                  column_names=FLIGHT_COLUMNS)  # fmt: skip
    with serve_api(factory, host="127.0.0.1", port=0) as api:
        yield api


def test_server_binds_loopback(server: ApiServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{server.url}/health").json()["tables"]["flights_enriched"] == 403


def test_query_command_prints_dashboard(
    server: ApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "query",
        "--api-url",
        server.url,
        "state_delays",
        "--param",
        f"until={UNTIL.isoformat()}",
    ]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["state", "flights", "delayed_flights", "delayed_share",
                                "avg_delay_minutes", "max_delay_minutes"]  # fmt: skip
    assert lines[2].split()[0] == "IL"
    assert lines[-1].startswith("(5 rows, ")


def test_query_command_runs_sql(server: ApiServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--api-url", server.url, "SELECT 40 + 2 AS answer, 'Marín' AS city"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["answer", "city"]
    assert lines[2].split() == ["42", "Marín"]


def test_query_command_lists_dashboards(
    server: ApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "--api-url", server.url]) == 0
    out = capsys.readouterr().out
    assert "airport_delay_trend: Delay trend per minute for one airport over the last hour" in out
    assert "--param airport=<String>  (required)" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["nope"],
        ["DROP TABLE flights_enriched"],
        ["airport_delay_trend"],
        ["airport_delay_trend", "--param", "airport"],
    ],
)
def test_query_command_errors_exit_1(server: ApiServer, argv: list[str]) -> None:
    assert main(["query", "--api-url", server.url, *argv]) == 1


def test_query_command_without_server_exits_1() -> None:
    assert main(["query", "--api-url", f"http://127.0.0.1:{free_port()}", "freshness"]) == 1
