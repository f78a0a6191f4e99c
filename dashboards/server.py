"""Serving the query API with uvicorn: in a background thread of the ClickHouse sink, or
in the foreground for `rtpath api`."""

import logging
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import uvicorn

from dashboards.api import create_app
from dashboards.catalog import load_dashboards
from dashboards.errors import StoreUnavailable
from dashboards.limits import QueryLimits
from dashboards.store import ClientFactory, ReadOnlyStore

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 30.0


@dataclass
class ApiServer:
    """A running API server; `stop()` shuts it down and closes its ClickHouse clients."""

    url: str
    _server: uvicorn.Server
    _thread: threading.Thread
    _store: ReadOnlyStore

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._store.close()

    def __enter__(self) -> "ApiServer":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _build(
    client_factory: ClientFactory,
    host: str,
    port: int,
    limits: QueryLimits,
    pool_size: int,
    backend: str,
) -> tuple[uvicorn.Server, ReadOnlyStore]:
    store = ReadOnlyStore(client_factory, limits, pool_size=pool_size, backend=backend)
    dashboards = load_dashboards()
    config = uvicorn.Config(
        create_app(store, dashboards), host=host, port=port, log_config=None,
        access_log=False, lifespan="on",
    )  # fmt: skip
    return uvicorn.Server(config), store


def serve_api(
    client_factory: ClientFactory,
    host: str = "127.0.0.1",
    port: int = 8700,
    limits: QueryLimits | None = None,
    pool_size: int = 2,
    backend: str = "chdb",
) -> ApiServer:
    """Start the API in a background thread and return once it accepts connections.

    `client_factory` returns a new, unconfigured clickhouse-connect client; the API makes it
    read-only. In embedded mode pass `chdb_client_factory(path)` from the process that owns
    the chDB folder. Port 0 picks a free port; `ApiServer.url` has the bound one.
    """
    limits = limits or QueryLimits()
    server, store = _build(client_factory, host, port, limits, pool_size, backend)
    thread = threading.Thread(target=server.run, name="rtpath-query-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            store.close()
            raise StoreUnavailable(
                f"query API did not start on {host}:{port}; is the port in use? "
                "Pick another with --api-port"
            )
        time.sleep(0.02)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://{_url_host(host)}:{bound_port}"
    _log_start(url, backend, limits, pool_size)
    return ApiServer(url=url, _server=server, _thread=thread, _store=store)


def run_api(
    client_factory: ClientFactory,
    host: str,
    port: int,
    limits: QueryLimits,
    pool_size: int,
    backend: str,
) -> None:
    """Serve the API in the foreground until SIGINT or SIGTERM.

    uvicorn raises the caught signal again after its shutdown, so the process ends with that
    signal's status once the app has logged its totals.
    """
    server, store = _build(client_factory, host, port, limits, pool_size, backend)
    _log_start(f"http://{_url_host(host)}:{port}", backend, limits, pool_size)
    try:
        server.run()
    finally:
        store.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _log_start(url: str, backend: str, limits: QueryLimits, pool_size: int) -> None:
    logger.info(
        "query API on %s: backend %s, readonly=1, max_execution_time=%s s, "
        "max_result_rows=%d, max_memory_usage=%d, %d connection(s)",
        url, backend, limits.max_execution_time, limits.max_result_rows,
        limits.max_memory_usage, pool_size,
    )  # fmt: skip
