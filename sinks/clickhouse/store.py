"""ClickHouse access of the sink: connection, DDL, resume positions and raw JSONEachRow inserts.

The same SQL runs on chDB in this process (a `chdb://` DSN) and on a server over HTTP.
clickhouse-connect clients are not thread-safe, so every thread opens its own client with
`open_client`. chDB (chdb-core 26.9 through clickhouse-connect 1.12) allows several clients on
one data folder within one process, which is how a query API thread can share the sink's
process, but a second process cannot open the folder.
"""

import logging
import re
from collections.abc import Sequence
from enum import Enum
from pathlib import Path

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError, DatabaseError, OperationalError

from core.errors import RtpathError

logger = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent / "sql"

# Tables the sink inserts into: Null tables shaped like the topic's JSON rows, whose
# materialized views convert the rows into the table of the same name without `_ingest`.
INGEST_TABLES = {
    "flights_enriched": "flights_enriched_ingest",
    "delays_by_airport_1m": "delays_by_airport_1m_ingest",
}

# Settings of every insert, sent with the INSERT itself so no session state is changed.
# NOTE: ClickHouse 26.9 still accepts some wrong types without error: numbers in quotes,
# integers that overflow the column (they wrap), and an explicit null for a non-Nullable
# column (it becomes the type's default). Omitted required fields and other types are rejected.
INSERT_SETTINGS: dict[str, str | int] = {
    "input_format_skip_unknown_fields": 0,
    "input_format_force_null_for_omitted_fields": 1,
    "input_format_json_read_numbers_as_strings": 0,
    "input_format_json_read_bools_as_numbers": 0,
    "input_format_json_read_bools_as_strings": 0,
    "input_format_json_read_objects_as_strings": 0,
    "input_format_json_read_arrays_as_strings": 0,
    "date_time_input_format": "basic",
    "insert_deduplicate": 1,
    "deduplicate_blocks_in_dependent_materialized_views": 1,
}

# Server error codes of rows that cannot be parsed or converted: the batch is split to find them.
DATA_ERROR_CODES = frozenset({
    6,  # CANNOT_PARSE_TEXT
    25,  # CANNOT_PARSE_ESCAPE_SEQUENCE
    26,  # CANNOT_PARSE_QUOTED_STRING
    27,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
    32,  # ATTEMPT_TO_READ_AFTER_EOF
    33,  # CANNOT_READ_ALL_DATA
    38,  # CANNOT_PARSE_DATE
    41,  # CANNOT_PARSE_DATETIME
    53,  # TYPE_MISMATCH
    69,  # ARGUMENT_OUT_OF_BOUND
    70,  # CANNOT_CONVERT_TYPE
    72,  # CANNOT_PARSE_NUMBER
    117,  # INCORRECT_DATA
    131,  # TOO_LARGE_STRING_SIZE
    321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
    407,  # DECIMAL_OVERFLOW
    467,  # CANNOT_PARSE_BOOL
})  # fmt: skip

# Server error codes that a later attempt may not hit: overload, timeouts, network trouble.
TRANSIENT_ERROR_CODES = frozenset({
    159,  # TIMEOUT_EXCEEDED
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    203,  # NO_FREE_CONNECTION
    209,  # SOCKET_TIMEOUT
    210,  # NETWORK_ERROR
    241,  # MEMORY_LIMIT_EXCEEDED
    242,  # TABLE_IS_READ_ONLY
    252,  # TOO_MANY_PARTS
    319,  # UNKNOWN_STATUS_OF_INSERT
    425,  # SYSTEM_ERROR
    999,  # KEEPER_EXCEPTION
})  # fmt: skip


class ClickHouseSinkError(RtpathError):
    """ClickHouse failed in a way the sink does not retry, such as a missing table or grant."""


class InsertErrorKind(Enum):
    DATA = "data"
    TRANSIENT = "transient"
    FATAL = "fatal"


def classify_error(exc: ClickHouseError) -> InsertErrorKind:
    """Return whether an insert error comes from bad rows, passing trouble or a broken setup."""
    if isinstance(exc, OperationalError) and getattr(exc, "code", None) is None:
        return InsertErrorKind.TRANSIENT  # connection refused, reset or timed out over HTTP
    code = getattr(exc, "code", None)
    if code in DATA_ERROR_CODES:
        return InsertErrorKind.DATA
    if code in TRANSIENT_ERROR_CODES:
        return InsertErrorKind.TRANSIENT
    return InsertErrorKind.FATAL


def mask_dsn(dsn: str) -> str:
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", dsn)


def open_client(dsn: str, database: str | None = None) -> Client:
    """Open a clickhouse-connect client on `dsn`, chDB for `chdb://` DSNs; one per thread."""
    try:
        return clickhouse_connect.get_client(dsn=dsn, database=database)
    except ClickHouseError as exc:
        raise ClickHouseSinkError(
            f"cannot open ClickHouse at {mask_dsn(dsn)}: {exc}. For chDB, check that no other "
            "process uses the data folder; for a server, check the URL and that it is running"
        ) from exc


def ddl_statements(sql_dir: Path = SQL_DIR) -> list[str]:
    """Return the DDL statements of the `.sql` files in file-name order.

    Statements end with a semicolon at the end of a line; `--` comment lines are dropped.
    """
    statements: list[str] = []
    for path in sorted(sql_dir.glob("*.sql")):
        lines = [line for line in path.read_text().splitlines() if not line.startswith("--")]
        for statement in re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE):
            if statement.strip():
                statements.append(statement.strip())
    return statements


def apply_ddl(client: Client, database: str) -> None:
    """Create the database, tables and views that do not exist yet; existing ones stay as they are.

    Leaves `client` using `database`.
    """
    try:
        client.command("CREATE DATABASE IF NOT EXISTS {db:Identifier}", parameters={"db": database})
        client.database = database
        for statement in ddl_statements():
            client.command(statement)
    except DatabaseError as exc:
        raise ClickHouseSinkError(
            f"creating the tables in database {database!r} failed: {exc}. "
            "The DDL lives in sinks/clickhouse/sql; an existing table of another shape "
            "must be dropped or migrated by hand"
        ) from exc


def stored_positions(
    client: Client, table: str, topic: str, partitions: Sequence[int]
) -> dict[int, int]:
    """Return the offset after the largest one `table` contains, per partition of `topic`."""
    result = client.query(
        "SELECT kafka_partition, max(kafka_offset) + 1 FROM {table:Identifier} "
        "WHERE kafka_topic = {topic:String} AND kafka_partition IN {partitions:Array(Int32)} "
        "GROUP BY kafka_partition",
        parameters={"table": table, "topic": topic, "partitions": list(partitions)},
    )
    return {int(partition): int(offset) for partition, offset in result.result_rows}


def insert_json_rows(client: Client, table: str, block: bytes, token: str) -> None:
    """Insert newline-separated JSON objects into the ingest table of `table` as one block.

    `token` is the insert_deduplication_token: ClickHouse drops a repeated insert with the
    same token within the tables' non_replicated_deduplication_window, which makes a retry
    after an unknown outcome safe.
    """
    client.raw_insert(
        INGEST_TABLES[table], None, block, fmt="JSONEachRow",
        settings={**INSERT_SETTINGS, "insert_deduplication_token": token},
    )  # fmt: skip
