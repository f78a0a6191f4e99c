"""The read-only query API: an ASGI app over a `ReadOnlyStore`, served by uvicorn.

Routes:
    GET  /dashboards          list dashboards and their parameters
    GET  /dashboards/{name}   run one dashboard; query string = its parameters
    POST /query               run one ad-hoc read-only statement: {"sql": ..., "parameters": {}}
    GET  /health              reachability of the store and row counts of its tables

A query result is {"columns", "types", "rows", "rows_read", "elapsed_ms"}; an error is
{"error": message} with 400 (rejected statement, bad parameter, failed query), 404 (unknown
dashboard), 413 (body too large), 503 (store unreachable or busy) or 504 (timeout).
"""

import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dashboards.catalog import PLACEHOLDER, Dashboard, find_dashboard
from dashboards.errors import (
    InvalidParameter,
    QueryFailed,
    QueryTimeout,
    RejectedQuery,
    StoreUnavailable,
    UnknownDashboard,
)
from dashboards.guard import check_read_only
from dashboards.jsonvalues import to_json_value
from dashboards.store import QueryResult, ReadOnlyStore

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024

STATUS = {
    RejectedQuery: 400,
    InvalidParameter: 400,
    QueryFailed: 400,
    UnknownDashboard: 404,
    StoreUnavailable: 503,
    QueryTimeout: 504,
}


def create_app(store: ReadOnlyStore, dashboards: Mapping[str, Dashboard]) -> Starlette:
    """Build the ASGI app; the caller owns `store` and closes it after the server stops.

    The app counts responses by status and logs the totals when its lifespan ends.
    """
    totals: Counter[int] = Counter()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        logger.info(
            "query API stopped: %d responses, %s",
            sum(totals.values()),
            ", ".join(f"{count} x {status}" for status, count in sorted(totals.items())) or "none",
        )

    async def list_dashboards(request: Request) -> JSONResponse:
        return JSONResponse({"dashboards": [d.describe() for d in dashboards.values()]})

    async def run_dashboard(request: Request) -> JSONResponse:
        name = request.path_params["name"]
        try:
            dashboard = find_dashboard(dashboards, name)
            values = _single_values(request.query_params.multi_items())
            bound = dashboard.bind(values)
            result = await run_in_threadpool(store.query, dashboard.sql, bound)
        except (UnknownDashboard, InvalidParameter, RejectedQuery, QueryFailed,
                QueryTimeout, StoreUnavailable) as exc:  # fmt: skip
            return _count(totals, _error(request, exc, f"dashboard {name}"))
        return _count(totals, _result(result))

    async def run_query(request: Request) -> JSONResponse:
        sql = ""
        try:
            sql, parameters = await _read_query_body(request)
            statement = check_read_only(sql)
            _check_placeholders(statement, parameters)
            result = await run_in_threadpool(store.query, statement, parameters)
        except _BodyTooLarge as exc:
            return _count(totals, JSONResponse({"error": str(exc)}, status_code=413))
        except (InvalidParameter, RejectedQuery, QueryFailed, QueryTimeout,
                StoreUnavailable) as exc:  # fmt: skip
            return _count(totals, _error(request, exc, f"query {sql[:200]!r}"))
        return _count(totals, _result(result))

    async def health(request: Request) -> JSONResponse:
        try:
            tables = await run_in_threadpool(store.table_rows)
        except (QueryFailed, QueryTimeout, StoreUnavailable) as exc:
            logger.warning("health check failed: %s", exc)
            return JSONResponse(
                {"status": "unavailable", "backend": store.backend, "error": str(exc)},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "backend": store.backend, "tables": tables})

    return Starlette(
        routes=[
            Route("/dashboards", list_dashboards, methods=["GET"]),
            Route("/dashboards/{name}", run_dashboard, methods=["GET"]),
            Route("/query", run_query, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _count(totals: Counter[int], response: JSONResponse) -> JSONResponse:
    totals[response.status_code] += 1
    return response


class _BodyTooLarge(Exception):
    pass


def _single_values(items: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in items:
        if name in values:
            raise InvalidParameter(name, "given more than once")
        values[name] = value
    return values


async def _read_query_body(request: Request) -> tuple[str, dict[str, str]]:
    """Return the SQL and parameters of a POST /query body.

    The body is JSON {"sql": str, "parameters": {name: str}}, or the bare SQL as text/plain.
    """
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _BodyTooLarge(f"request body exceeds {MAX_BODY_BYTES} bytes")
    if not request.headers.get("content-type", "").startswith("application/json"):
        return body.decode("utf-8", errors="replace"), {}
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise InvalidParameter("body", f"invalid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("sql"), str):
        raise InvalidParameter("sql", 'missing; send {"sql": "SELECT ...", "parameters": {}}')
    parameters = document.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InvalidParameter("parameters", "must be an object of names to text values")
    for name, value in parameters.items():
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InvalidParameter(name, "must be a text or number value")
    return document["sql"], {name: str(value) for name, value in parameters.items()}


def _check_placeholders(statement: str, parameters: Mapping[str, str]) -> None:
    placeholders = {match.group("name") for match in PLACEHOLDER.finditer(statement)}
    for name in parameters:
        if name not in placeholders:
            raise InvalidParameter(name, f"the statement has no {{{name}:Type}} placeholder")


def _result(result: QueryResult) -> JSONResponse:
    return JSONResponse(
        {
            "columns": result.columns,
            "types": result.types,
            "rows": [[to_json_value(value) for value in row] for row in result.rows],
            "rows_read": result.rows_read,
            "elapsed_ms": result.elapsed_ms,
        }
    )


def _error(request: Request, exc: Exception, target: str) -> JSONResponse:
    status = STATUS[type(exc)]
    client = request.client.host if request.client else "unknown"
    if isinstance(exc, RejectedQuery):
        logger.warning("rejected %s from %s: %s", target, client, exc)
    else:
        logger.info("%s from %s failed with %d: %s", target, client, status, exc)
    body: dict[str, Any] = {"error": str(exc)}
    if isinstance(exc, UnknownDashboard):
        body["dashboards"] = exc.known
    if isinstance(exc, InvalidParameter):
        body["parameter"] = exc.name
    return JSONResponse(body, status_code=status)
