"""Splitting and parameter substitution of the job's SQL files."""

from pathlib import Path

import pytest

from core.errors import ConfigError
from jobs.runner import JobPlan, sql_parameters
from jobs.settings import JobSettings
from jobs.sqlfile import load_statements, split_statements, substitute


def test_split_ignores_semicolons_in_quotes_and_comments() -> None:
    text = (
        "-- a; comment\nSET 'a;b' = 'c';\n\nCREATE VIEW `x;y` AS SELECT ';' ;\n-- only a comment;\n"
    )
    statements = split_statements(text, "t.sql")
    assert [s.first_line for s in statements] == [
        "SET 'a;b' = 'c'",
        "CREATE VIEW `x;y` AS SELECT ';'",
    ]
    assert [s.line for s in statements] == [2, 4]


def test_set_statement_gives_option() -> None:
    [statement] = split_statements("-- why\nSET 'pipeline.name' = 'x y';")
    assert statement.option == ("pipeline.name", "x y")
    assert not statement.is_insert


def test_insert_after_comment_is_insert() -> None:
    [statement] = split_statements("-- leading comment\nINSERT INTO t SELECT 1;")
    assert statement.is_insert
    assert statement.option is None


def test_unterminated_quote_raises() -> None:
    with pytest.raises(ConfigError, match="unterminated"):
        split_statements("SELECT 'x;")


def test_substitute_rejects_quote_in_value() -> None:
    with pytest.raises(ConfigError, match="contains characters"):
        substitute("'topic' = '${t}'", {"t": "x' , 'y"})


def test_substitute_names_missing_parameter() -> None:
    with pytest.raises(ConfigError, match="flights_topic"):
        substitute("'${flights_topic}'", {})


@pytest.mark.parametrize("enrichment", ["udf", "temporal-join"])
@pytest.mark.parametrize("source", ["kafka", "datagen"])
def test_every_job_file_loads(source: str, enrichment: str) -> None:
    settings = JobSettings(enrichment=enrichment)  # type: ignore[arg-type]
    extra = {"rows": "1", "rows_per_second": "1", "start_ms": "0"}
    for name in JobPlan(source).files(settings):  # type: ignore[arg-type]
        statements = load_statements(name, sql_parameters(settings, extra))
        assert statements, name
        assert all("${" not in s.text for s in statements)


def test_unreachable_broker_gives_one_clear_error() -> None:
    from core.errors import BrokerError
    from jobs.runner import check_topics
    from tests.conftest import free_port

    settings = JobSettings(kafka_bootstrap=f"127.0.0.1:{free_port()}")
    with pytest.raises(BrokerError, match=r"no Kafka broker answered .* `rtpath stack up`"):
        check_topics(settings, timeout_s=1.0)


def test_missing_javac_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.errors import JavaError
    from jobs.functions_jar import javac_executable

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JavaError, match=r"javac was not found .* apt-get install openjdk-17-jdk"):
        javac_executable()
