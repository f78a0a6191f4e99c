"""The query API over real chDB: writes are rejected twice, limits hold, errors name the cause."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from dashboards.api import create_app
from dashboards.catalog import load_dashboards
from dashboards.errors import RejectedQuery
from dashboards.limits import QueryLimits
from dashboards.store import ReadOnlyStore
from tests.integration.chdb_store import chdb_path, store_database, table_fingerprint  # noqa: F401
from tests.integration.flight_rows import FLIGHT_COLUMNS, make_flights

pytestmark = pytest.mark.integration

TABLES = ("flights_enriched", "delays_by_airport_1m", "flights_by_state_10s")

WRITES = [
    "INSERT INTO flights_enriched (event_id) VALUES ('x')",
    "INSERT INTO flights_enriched (event_id) SELECT toString(number) FROM numbers(3)",
    "ALTER TABLE flights_enriched DELETE WHERE 1",
    "ALTER TABLE flights_enriched ADD COLUMN hacked UInt8",
    "DELETE FROM flights_enriched WHERE 1",
    "TRUNCATE TABLE flights_enriched",
    "DROP TABLE flights_enriched",
    "CREATE TABLE hacked (x UInt8) ENGINE = Memory",
    "CREATE TEMPORARY TABLE hacked (x UInt8)",
    "RENAME TABLE flights_enriched TO hacked",
    "OPTIMIZE TABLE delays_by_airport_1m FINAL",
    "SYSTEM FLUSH LOGS",
    "SYSTEM DROP MARK CACHE",
    "SET readonly = 0",
    "SET max_execution_time = 1000",
]

# readonly = 1 lets these through in chDB 26.9, so the guard is the only barrier against them.
GUARD_ONLY = [
    "SYSTEM STOP MERGES",
    "SYSTEM STOP TTL MERGES",
    "SYSTEM STOP MOVES",
    "KILL QUERY WHERE 1",
    "SELECT 1 INTO OUTFILE 'out.csv'",
]

TRICKS = [
    "SELECT 1; DROP TABLE flights_enriched",
    "SELECT 1;DROP TABLE flights_enriched;",
    "SELECT 1 /* ; DROP TABLE flights_enriched */",
    "SELECT 1 -- ; DROP TABLE flights_enriched",
    "SELECT 1 --\n; DROP TABLE flights_enriched",
    "SELECT 1 /* unclosed ; DROP TABLE flights_enriched",
    "SELECT ';' ; DROP TABLE flights_enriched",
    "SELECT 1 SETTINGS readonly = 0",
    "SELECT count() FROM flights_enriched SETTINGS max_execution_time = 1000",
    "WITH 1 AS x INSERT INTO flights_enriched (event_id) VALUES ('x')",
    "(SELECT 1) UNION ALL (SELECT 2); TRUNCATE TABLE flights_enriched",
    "EXPLAIN ALTER TABLE flights_enriched DELETE WHERE 1",
    "SELECT * FROM file('/etc/hostname', 'LineAsString')",
    "SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'x String')",
    "INSERT INTO FUNCTION file('x.csv', 'CSV', 'x UInt8') VALUES (1)",
    "SELECT 1 FORMAT JSON",
    "SELECT 1\\G",
    "SELECT $$x$$",
    "USE system",
    "",
    "   ;  ",
]


@pytest.fixture(scope="module")
def setup(store_database: Any) -> Iterator[tuple[TestClient, Any, ReadOnlyStore]]:  # noqa: F811
    _, writer, factory = store_database
    flights = make_flights()[:50]
    writer.insert("flights_enriched", [f.row(i) for i, f in enumerate(flights)],
                  column_names=FLIGHT_COLUMNS)  # fmt: skip
    store = ReadOnlyStore(factory, QueryLimits(max_execution_time=0.5, max_result_rows=10))
    with TestClient(create_app(store, load_dashboards())) as client:
        yield client, writer, store
    store.close()


def fingerprints(writer: Any) -> dict[str, Any]:
    """Return count and checksum of each table, and the names of all tables and views."""
    names = writer.query("SELECT name FROM system.tables WHERE database = currentDatabase()")
    state: dict[str, Any] = {table: table_fingerprint(writer, table) for table in TABLES}
    state["table names"] = sorted(row[0] for row in names.result_rows)
    return state


@pytest.mark.parametrize("sql", WRITES + GUARD_ONLY + TRICKS)
def test_write_attempt_rejected_by_guard(setup: Any, sql: str) -> None:
    api, writer, _ = setup
    before = fingerprints(writer)
    response = api.post("/query", json={"sql": sql})
    assert response.status_code == 400, response.text
    assert response.json()["error"]
    assert fingerprints(writer) == before
    assert before["flights_enriched"][0] == 50


READONLY_REJECTS = [
    *WRITES,
    "SELECT 1; INSERT INTO flights_enriched (event_id) VALUES ('x')",
    "SELECT 1 SETTINGS readonly = 0",
]


@pytest.mark.parametrize("sql", READONLY_REJECTS)
def test_write_attempt_rejected_by_clickhouse(setup: Any, sql: str) -> None:
    """The same statements sent past the guard straight to the store's readonly session."""
    _, writer, store = setup
    before = fingerprints(writer)
    with pytest.raises(RejectedQuery, match="readonly"):
        store.query(sql, {})
    assert fingerprints(writer) == before


def test_chdb_readonly_allows_into_outfile(setup: Any, tmp_path: Path) -> None:
    """chDB 26.9 writes INTO OUTFILE under readonly = 1, so the guard is the only barrier."""
    api, _, store = setup
    target = tmp_path / "out.csv"
    sql = f"SELECT 1 INTO OUTFILE '{target}'"
    assert api.post("/query", json={"sql": sql}).status_code == 400
    assert not target.exists()
    store.query(sql, {})
    assert target.exists()


def test_writer_session_unchanged(setup: Any) -> None:
    api, writer, _ = setup
    api.post("/query", json={"sql": "SET readonly = 0"})
    assert writer.query("SELECT getSetting('readonly')").result_rows == [(0,)]
    reader = api.post("/query", json={"sql": "SELECT getSetting('readonly')"})
    assert reader.json()["rows"] == [[1]]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"airport": "ORD", "minutes": "1; DROP TABLE flights_enriched"}, "minutes"),
        ({"airport": "ORD", "minutes": "60 OR 1=1"}, "minutes"),
        ({"airport": "ORD", "minutes": "-1"}, "minutes"),
        ({"airport": "ORD", "minutes": "4294967296"}, "minutes"),
        ({"airport": "ORD", "until": "2026-01-15T12:00:00Z'); DROP TABLE x; --"}, "until"),
        ({"airport": "ORD", "until": "2026-01-15T12:00:00"}, "until"),
        ({"airport": "ORD", "hacked": "1"}, "hacked"),
        ({"minutes": "60"}, "airport"),
    ],
)
def test_bad_parameter_is_400(setup: Any, params: dict[str, str], name: str) -> None:
    api, writer, _ = setup
    before = fingerprints(writer)
    response = api.get("/dashboards/airport_delay_trend", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["parameter"] == name
    assert name in response.json()["error"]
    assert fingerprints(writer) == before


def test_repeated_parameter_is_400(setup: Any) -> None:
    api, _, _ = setup
    response = api.get("/dashboards/airport_delay_trend?airport=ORD&airport=DFW")
    assert response.status_code == 400
    assert response.json()["parameter"] == "airport"


def test_string_parameter_injection_is_a_value(setup: Any) -> None:
    api, writer, _ = setup
    before = fingerprints(writer)
    crafted = "ORD' OR 1=1; DROP TABLE flights_enriched; --"
    response = api.get("/dashboards/airport_delay_trend", params={"airport": crafted})
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == []
    echoed = api.post("/query", json={"sql": "SELECT {v:String}", "parameters": {"v": crafted}})
    assert echoed.json()["rows"] == [[crafted]]
    assert fingerprints(writer) == before


def test_adhoc_parameter_without_placeholder_is_400(setup: Any) -> None:
    api, _, _ = setup
    response = api.post("/query", json={"sql": "SELECT %(v)s", "parameters": {"v": "1"}})
    assert response.status_code == 400
    assert response.json()["parameter"] == "v"


def test_long_query_times_out_504(setup: Any) -> None:
    api, _, _ = setup
    sql = "SELECT count() FROM numbers(10000000000) WHERE cityHash64(number) % 7 = 3"
    response = api.post("/query", json={"sql": sql})
    assert response.status_code == 504, response.text
    assert "max_execution_time" in response.json()["error"]


def test_result_row_limit_is_400(setup: Any) -> None:
    api, _, _ = setup
    assert api.post("/query", json={"sql": "SELECT number FROM numbers(10)"}).status_code == 200
    response = api.post("/query", json={"sql": "SELECT number FROM numbers(11)"})
    assert response.status_code == 400
    assert "max rows: 10" in response.json()["error"]


def test_adhoc_select_returns_rows(setup: Any) -> None:
    api, _, _ = setup
    sql = "SELECT origin, count() AS n FROM flights_enriched GROUP BY origin ORDER BY origin"
    response = api.post("/query", content=sql, headers={"content-type": "text/plain"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["columns"] == ["origin", "n"]
    assert sum(row[1] for row in body["rows"]) == 50
    assert body["types"] == ["LowCardinality(String)", "UInt64"]


def test_unknown_dashboard_404_lists_names(setup: Any) -> None:
    api, _, _ = setup
    response = api.get("/dashboards/nope")
    assert response.status_code == 404
    assert response.json()["dashboards"] == sorted(load_dashboards())


def test_dashboard_list_has_parameters(setup: Any) -> None:
    api, _, _ = setup
    listed = {d["name"]: d for d in api.get("/dashboards").json()["dashboards"]}
    assert sorted(listed) == ["airport_delay_trend", "busy_routes", "delayed_origins",
                              "freshness", "state_delays"]  # fmt: skip
    airport = listed["airport_delay_trend"]["parameters"][0]
    assert airport == {"name": "airport", "type": "String", "default": None, "required": True,
                       "description": "Origin airport code, for example ORD."}  # fmt: skip


def test_health_reports_row_counts(setup: Any) -> None:
    api, _, _ = setup
    body = api.get("/health").json()
    assert body["status"] == "ok"
    assert body["backend"] == "chdb"
    assert body["tables"]["flights_enriched"] == 50
    assert body["tables"]["delays_by_airport_1m"] == 0


def test_body_too_large_is_413(setup: Any) -> None:
    api, _, _ = setup
    response = api.post("/query", json={"sql": "SELECT '" + "x" * 70_000 + "'"})
    assert response.status_code == 413
