"""`rtpath api` serves the read-only query API; `rtpath query` calls it and prints a table."""

import argparse
import ipaddress
import json
import logging
from typing import Any

from core.errors import ConfigError
from core.settings import Settings
from dashboards.settings import ApiSettings

logger = logging.getLogger(__name__)


def add_parsers(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    api = groups.add_parser(
        "api",
        help="serve the read-only query API over a ClickHouse server or a chDB folder",
        description="Serve GET /dashboards, GET /dashboards/NAME, POST /query and GET /health. "
        "With chDB only one process can open the folder: while `rtpath sink clickhouse` runs, "
        "use its --api-port instead.",
    )
    api.add_argument("--clickhouse-url", help="ClickHouse server URL, http://user:pw@host:8123")
    api.add_argument("--chdb-path", help="chDB data folder (default DATA_DIR/clickhouse)")
    api.add_argument("--database", help="database of the tables (default rtpath)")
    api.add_argument("--api-host", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--api-port", type=int, help="port to listen on (default 8700)")
    api.add_argument("--pool-size", type=int, help="ClickHouse connections (default 2)")
    api.add_argument("--max-execution-time", type=float, help="query time limit, s (default 10)")
    api.add_argument("--max-result-rows", type=int, help="result row limit (default 10000)")
    api.set_defaults(handler=run_api_command, settings_model=ApiSettings,
                     settings_overrides=_api_overrides)  # fmt: skip

    query = groups.add_parser(
        "query",
        help="run a dashboard or one read-only SELECT through the query API",
        description="Without TARGET, list the dashboards and their parameters.",
    )
    query.add_argument("target", nargs="?", help='dashboard name, or SQL such as "SELECT 1"')
    query.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="parameter value (repeatable)")  # fmt: skip
    query.add_argument("--api-url", help="URL of the API (default http://127.0.0.1:8700)")
    query.add_argument("--json", action="store_true", help="print the JSON response")
    query.set_defaults(handler=run_query_command, settings_model=ApiSettings,
                       settings_overrides=lambda a: {"api_url": a.api_url})  # fmt: skip


def _api_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "clickhouse_url": args.clickhouse_url,
        "chdb_path": args.chdb_path,
        "clickhouse_database": args.database,
        "api_host": args.api_host,
        "api_port": args.api_port,
        "api_pool_size": args.pool_size,
        "max_execution_time": args.max_execution_time,
        "max_result_rows": args.max_result_rows,
    }


def run_api_command(settings: Settings, args: argparse.Namespace) -> int:
    assert isinstance(settings, ApiSettings)
    # Imported here so that `rtpath query` does not load uvicorn and the ClickHouse driver.
    from dashboards.server import run_api
    from dashboards.store import chdb_client_factory, http_client_factory

    if settings.clickhouse_url:
        factory = http_client_factory(settings.clickhouse_url, settings.clickhouse_database)
        backend = "http"
    else:
        factory = chdb_client_factory(settings.chdb_folder, settings.clickhouse_database)
        backend = f"chdb {settings.chdb_folder}"
    if not _is_loopback(settings.api_host):
        logger.warning(
            "query API listens on %s, reachable from other hosts, and has no authentication",
            settings.api_host,
        )
    run_api(factory, settings.api_host, settings.api_port, settings.limits,
            settings.api_pool_size, backend)  # fmt: skip
    return 0


def run_query_command(settings: Settings, args: argparse.Namespace) -> int:
    from dashboards.client import call_api, format_dashboards, format_table

    assert isinstance(settings, ApiSettings)
    params = dict(_parse_param(text) for text in args.param)
    body = call_api(settings.api_base_url, args.target, params)
    if args.json:
        print(json.dumps(body, ensure_ascii=False, indent=2))
    elif args.target is None:
        print(format_dashboards(body))
    else:
        print(format_table(body["columns"], body["rows"]))
        print(f"({len(body['rows'])} rows, {body['elapsed_ms']:.1f} ms, "
              f"{body['rows_read']} rows read)")  # fmt: skip
    return 0


def _parse_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ConfigError(f"--param {text!r} is not NAME=VALUE, for example --param minutes=30")
    return name, value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
