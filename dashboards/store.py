"""Read-only access to ClickHouse for the query API: chDB in-process or a server over HTTP.

Every connection the API uses is configured once, when it opens: first the query limits, then
`readonly = 1`. The order matters because once `readonly = 1` is set, ClickHouse rejects any
later setting change (measured with chDB 26.9 through clickhouse-connect 1.12).

In chDB the settings are session state of the API's own engine handle. They cover every
statement of a request and no other handle of the process, so the sink's writer keeps
readonly = 0. Over HTTP, clickhouse-connect sends them as URL parameters of every request.
NOTE: the HTTP path has not run against a ClickHouse server here (no server on this machine).
"""

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from dashboards.errors import QueryFailed, QueryTimeout, RejectedQuery, StoreUnavailable
from dashboards.limits import QueryLimits

logger = logging.getLogger(__name__)

ClientFactory = Callable[[], Client]

# ClickHouse error codes the API maps onto its own errors.
TIMEOUT_EXCEEDED = 159
READONLY = 164


@dataclass(frozen=True)
class QueryResult:
    """Rows of one query with ClickHouse's count of rows read and the wall time in the API."""

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]
    rows_read: int
    elapsed_ms: float


def chdb_client_factory(path: Path, database: str | None = None) -> ClientFactory:
    """Return a factory of clients on the chDB data folder `path`.

    chDB lets one process open one data folder: call this in the process that owns it, the
    ClickHouse sink in embedded mode. Each client is its own engine handle with its own
    session settings.
    """
    dsn = f"chdb://{path}"
    return lambda: clickhouse_connect.get_client(dsn=dsn, database=database, tz_mode="aware")


def http_client_factory(url: str, database: str | None = None) -> ClientFactory:
    """Return a factory of clients of the ClickHouse server at `url` (http://user:pw@host:8123)."""
    return lambda: clickhouse_connect.get_client(dsn=url, database=database, tz_mode="aware")


class ReadOnlyStore:
    """A small pool of read-only ClickHouse clients shared by the API's request threads.

    Clients open lazily, up to `pool_size`; a request waits for a free client at most
    `max_execution_time` plus 5 seconds, then fails with `StoreUnavailable`.
    """

    def __init__(
        self,
        client_factory: ClientFactory,
        limits: QueryLimits,
        pool_size: int = 2,
        backend: str = "chdb",
    ) -> None:
        self.limits = limits
        self.backend = backend
        self._factory = client_factory
        self._idle: queue.Queue[Client] = queue.Queue()
        self._opened: list[Client] = []
        self._pool_size = pool_size
        self._lock = threading.Lock()

    def query(self, sql: str, parameters: Mapping[str, str | None]) -> QueryResult:
        """Run one statement the guard has accepted, with values bound server-side.

        Every name in `parameters` must be a `{name:Type}` placeholder of `sql`: without one,
        clickhouse-connect would format the values into the text client-side.
        """
        with self._client() as client:
            started = time.monotonic()
            try:
                result = client.query(sql, parameters=dict(parameters) or None)
            except DatabaseError as exc:
                raise _translate(exc) from exc
            elapsed_ms = (time.monotonic() - started) * 1000
        return QueryResult(
            columns=list(result.column_names),
            types=[t.name for t in result.column_types],
            rows=[tuple(row) for row in result.result_rows],
            # NOTE: through clickhouse-connect 1.12 the chDB backend reports the result's row
            # count here, not the rows scanned that a server reports (chDB's own
            # storage_rows_read() is not exposed).
            rows_read=int(result.summary.get("read_rows", 0)),
            elapsed_ms=round(elapsed_ms, 3),
        )

    def table_rows(self) -> dict[str, int | None]:
        """Return the row count of each table in the current database (None for views)."""
        result = self.query(
            "SELECT name, total_rows FROM system.tables "
            "WHERE database = currentDatabase() ORDER BY name",
            {},
        )
        return {str(name): None if rows is None else int(rows) for name, rows in result.rows}

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for client in opened:
            client.close()

    @contextmanager
    def _client(self) -> Iterator[Client]:
        client = self._take()
        try:
            yield client
        finally:
            self._idle.put(client)

    def _take(self) -> Client:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._opened) < self._pool_size:
                client = self._open()
                self._opened.append(client)
                return client
        try:
            return self._idle.get(timeout=self.limits.max_execution_time + 5)
        except queue.Empty:
            raise StoreUnavailable(
                f"all {self._pool_size} ClickHouse connections stayed busy; retry later"
            ) from None

    def _open(self) -> Client:
        try:
            client = self._factory()
            for name, value in self.limits.session_settings().items():
                client.set_client_setting(name, value)
            readonly = client.query("SELECT getSetting('readonly')").result_rows[0][0]
        except (DatabaseError, OperationalError) as exc:
            raise StoreUnavailable(f"cannot open a read-only {self.backend} client: {exc}") from exc
        if int(readonly) != 1:
            client.close()
            raise StoreUnavailable(
                f"the {self.backend} client reports readonly = {readonly} after setting 1; "
                "the API does not run without readonly = 1"
            )
        logger.debug("opened read-only %s client %d of %d",
                     self.backend, len(self._opened) + 1, self._pool_size)  # fmt: skip
        return client


def _translate(exc: DatabaseError) -> Exception:
    code = getattr(exc, "code", None)
    message = str(exc).split("\n")[0]
    if code == TIMEOUT_EXCEEDED:
        return QueryTimeout(f"query cut off by max_execution_time: {message}")
    if code == READONLY:
        return RejectedQuery(f"ClickHouse rejected the statement in readonly mode: {message}")
    if isinstance(exc, OperationalError):
        return StoreUnavailable(f"ClickHouse is unreachable: {message}")
    return QueryFailed(f"query failed: {message}")
