import re

import pytest

from dashboards.errors import RejectedQuery
from dashboards.guard import check_read_only

ACCEPTED = [
    ("SELECT 1", "SELECT 1"),
    ("SELECT 1;", "SELECT 1"),
    ("select/**/1", "select 1"),
    ("SELECT 1 -- note\n", "SELECT 1"),
    ("SELECT * FROM system.settings", "SELECT * FROM system.settings"),
    ("SELECT 'a;b', 'DROP', \"SET\" FROM t", "SELECT 'a;b', 'DROP', \"SET\" FROM t"),
    ("SELECT 'it''s', 'a\\'b'", "SELECT 'it''s', 'a\\'b'"),
    ("WITH 1 AS x SELECT x", "WITH 1 AS x SELECT x"),
    ("(SELECT 1) UNION ALL (SELECT 2)", "(SELECT 1) UNION ALL (SELECT 2)"),
    (
        "SELECT format('{}', 1), replace('a', 'a', 'b')",
        "SELECT format('{}', 1), replace('a', 'a', 'b')",
    ),
    ("SELECT {x:UInt8}", "SELECT {x:UInt8}"),
    ("SELECT x::Int32, arrayMap(v -> v + 1, [1])", "SELECT x::Int32, arrayMap(v -> v + 1, [1])"),
    ("DESCRIBE TABLE flights_enriched", "DESCRIBE TABLE flights_enriched"),
    ("SHOW TABLES", "SHOW TABLES"),
    ("SELECT 'Muñoz Marín'", "SELECT 'Muñoz Marín'"),
]

REJECTED = [
    ("INSERT INTO t VALUES (1)", "INSERT"),
    ("insert into t values (1)", "INSERT"),
    ("ALTER TABLE t DELETE WHERE 1", "ALTER"),
    ("DROP TABLE t", "DROP"),
    ("CREATE TABLE t (x UInt8) ENGINE = Memory", "CREATE"),
    ("SYSTEM STOP MERGES", "SYSTEM"),
    ("SET readonly = 0", "SET"),
    ("KILL QUERY WHERE 1", "KILL"),
    ("SELECT 1; SELECT 2", "several statements"),
    ("SELECT 1;;", "several statements"),
    ("SELECT 1 /* ; DROP TABLE x */", "semicolon"),
    ("SELECT 1 -- ; DROP TABLE x", "semicolon"),
    ("SELECT 1 /* DROP", "not closed"),
    ("SELECT 'abc", "not closed"),
    ("SELECT `abc", "not closed"),
    ("SELECT 1 SETTINGS readonly = 0", "SETTINGS"),
    ("SELECT 1 INTO OUTFILE 'x'", "OUTFILE"),
    ("SELECT 1 FORMAT JSON", "FORMAT"),
    ("SELECT * FROM file('/etc/passwd')", "file()"),
    ("SELECT * FROM URL('http://127.0.0.1/')", "URL()"),
    ("SELECT * FROM remote('127.0.0.1', system.one)", "remote()"),
    ("WITH 1 AS x INSERT INTO t SELECT x", "INSERT"),
    ("EXPLAIN ALTER TABLE t DELETE WHERE 1", "ALTER"),
    ("(INSERT INTO t VALUES (1))", "must be a SELECT"),
    ("OPTIMIZE TABLE t", "OPTIMIZE"),
    ("USE system", "USE"),
    ("GRANT ALL ON *.* TO x", "GRANT"),
    ("SELECT $$x$$", "'$'"),
    ("SELECT 1 # comment", "'#'"),
    ("SELECT 1\\G", "character '\\\\'"),
    ("SELECT * FROM tablé", "'é'"),
    ("", "empty"),
    ("  -- only a comment\n", "empty"),
    ("VALUES (1)", "VALUES"),
]


@pytest.mark.parametrize(("sql", "expected"), ACCEPTED)
def test_guard_accepts_reads(sql: str, expected: str) -> None:
    assert check_read_only(sql) == expected


@pytest.mark.parametrize(("sql", "reason"), REJECTED)
def test_guard_rejects(sql: str, reason: str) -> None:
    with pytest.raises(RejectedQuery, match=re.escape(reason)):
        check_read_only(sql)


def test_guard_keeps_qualified_keyword_names() -> None:
    assert (
        check_read_only("SELECT t.set FROM db.settings AS t")
        == "SELECT t.set FROM db.settings AS t"
    )
