"""Error classification, DDL parsing and settings of the ClickHouse sink."""

import re
from pathlib import Path

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from core.errors import ConfigError
from core.settings import load_settings
from sinks.clickhouse.settings import ClickHouseSinkSettings
from sinks.clickhouse.sink import latency_percentiles
from sinks.clickhouse.store import InsertErrorKind, classify_error, ddl_statements, mask_dsn


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (DatabaseError("Code: 27. Cannot parse input", code=27), InsertErrorKind.DATA),
        (DatabaseError("Code: 53. Cannot insert NULL", code=53), InsertErrorKind.DATA),
        (DatabaseError("Code: 252. Too many parts", code=252), InsertErrorKind.TRANSIENT),
        (DatabaseError("Code: 241. Memory limit", code=241), InsertErrorKind.TRANSIENT),
        (OperationalError("connection reset"), InsertErrorKind.TRANSIENT),
        (DatabaseError("Code: 60. Unknown table", code=60), InsertErrorKind.FATAL),
        (DatabaseError("Code: 497. Not enough privileges", code=497), InsertErrorKind.FATAL),
    ],
)
def test_classify_error(error: DatabaseError, kind: InsertErrorKind) -> None:
    assert classify_error(error) is kind


def test_ddl_statements_in_file_order() -> None:
    statements = ddl_statements()

    created = [
        re.match(r"CREATE (TABLE|MATERIALIZED VIEW) IF NOT EXISTS (\w+)", s).groups()  # type: ignore[union-attr]
        for s in statements
    ]
    assert created == [
        ("TABLE", "flights_enriched"),
        ("TABLE", "flights_enriched_ingest"),
        ("MATERIALIZED VIEW", "flights_enriched_ingest_mv"),
        ("TABLE", "delays_by_airport_1m"),
        ("TABLE", "delays_by_airport_1m_ingest"),
        ("MATERIALIZED VIEW", "delays_by_airport_1m_ingest_mv"),
        ("TABLE", "flights_by_state_10s"),
        ("MATERIALIZED VIEW", "flights_by_state_10s_mv"),
    ]
    assert all(not s.rstrip().endswith(";") for s in statements)


def test_ddl_splits_on_line_end_semicolons(tmp_path: Path) -> None:
    (tmp_path / "02_b.sql").write_text("-- second\nSELECT 'a;b';\nSELECT 2;\n")
    (tmp_path / "01_a.sql").write_text("SELECT 1\n;\n")

    assert ddl_statements(tmp_path) == ["SELECT 1", "SELECT 'a;b'", "SELECT 2"]


def test_settings_default_to_chdb(tmp_path: Path) -> None:
    settings = load_settings(ClickHouseSinkSettings, data_dir=tmp_path)

    assert settings.clickhouse_dsn == f"chdb://{tmp_path.resolve() / 'clickhouse'}"
    assert settings.topic_tables() == {
        "flights_enriched": "flights_enriched",
        "delays_by_airport_1m": "delays_by_airport_1m",
    }


def test_settings_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTPATH_CLICKHOUSE_URL", "http://user:secret@127.0.0.1:8123")

    settings = load_settings(ClickHouseSinkSettings)

    assert settings.clickhouse_dsn == "http://user:secret@127.0.0.1:8123"
    assert mask_dsn(settings.clickhouse_dsn) == "http://user:***@127.0.0.1:8123"


def test_settings_reject_shared_topic() -> None:
    with pytest.raises(ConfigError, match="each table needs its own topic"):
        load_settings(
            ClickHouseSinkSettings, clickhouse_flights_topic="x", clickhouse_windows_topic="x"
        )


def test_settings_reject_huge_batches() -> None:
    with pytest.raises(ConfigError, match="clickhouse_batch_rows"):
        load_settings(ClickHouseSinkSettings, clickhouse_batch_rows=2_000_000)


def test_latency_percentiles() -> None:
    assert latency_percentiles([]) == (0.0, 0.0)
    assert latency_percentiles([0.25]) == (0.25, 0.25)
    p50, p99 = latency_percentiles([i / 100 for i in range(101)])
    assert p50 == pytest.approx(0.5)
    assert p99 == pytest.approx(0.99)
