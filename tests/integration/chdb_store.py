"""Fixtures for tests against a real chDB store: one data folder per test session.

chDB opens one data folder per process, so every test of a session shares the folder and
isolates itself with a database of its own.
"""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client

from dashboards.store import ClientFactory, chdb_client_factory
from sinks.clickhouse.store import apply_ddl


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture(scope="module")
def store_database(chdb_path: Path) -> Iterator[tuple[str, Client, ClientFactory]]:
    """A fresh database with the sink's own DDL, a writer client and a reader factory.

    All clients close at the end of the module, so tests of other modules may open chDB on
    another folder.
    """
    database = f"dash_{uuid.uuid4().hex[:12]}"
    admin = clickhouse_connect.get_client(dsn=f"chdb://{chdb_path}")
    writer = clickhouse_connect.get_client(dsn=f"chdb://{chdb_path}")
    apply_ddl(writer, database)
    try:
        yield database, writer, chdb_client_factory(chdb_path, database)
    finally:
        admin.command(f"DROP DATABASE IF EXISTS {database} SYNC")
        writer.close()
        admin.close()


def table_fingerprint(writer: Client, table: str) -> tuple[int, int]:
    """Return the row count and an order-independent checksum of every column of `table`."""
    sql = f"SELECT count(), sum(cityHash64(formatRow('TSV', *))) FROM {table}"
    count, checksum = writer.query(sql).result_rows[0]
    return int(count), int(checksum)


FingerprintAll = Callable[[], dict[str, tuple[int, int]]]
