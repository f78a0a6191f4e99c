"""Client of the query API for `rtpath query`: fetch a result and print it as a table."""

import json
from collections.abc import Mapping
from typing import Any

import httpx

from core.errors import RtpathError

IDENTIFIER_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class ApiError(RtpathError):
    """The query API is unreachable or returned an error."""


def is_dashboard_name(text: str) -> bool:
    """Tell a dashboard name (one identifier) from SQL text."""
    return bool(text) and set(text) <= IDENTIFIER_CHARS and not text[0].isdigit()


def call_api(
    base_url: str,
    target: str | None,
    params: Mapping[str, str],
    timeout_s: float = 60.0,
) -> dict[str, Any]:
    """List dashboards (no target), run a dashboard (a name) or run SQL; return the JSON."""
    try:
        with httpx.Client(base_url=base_url, timeout=timeout_s) as client:
            if target is None:
                response = client.get("/dashboards")
            elif is_dashboard_name(target):
                response = client.get(f"/dashboards/{target}", params=dict(params))
            else:
                response = client.post("/query", json={"sql": target, "parameters": params})
    except httpx.TransportError as exc:
        raise ApiError(
            f"cannot reach the query API at {base_url}: {exc}; start it with `rtpath api` "
            "or `rtpath sink clickhouse --api-port PORT`, or pass --api-url"
        ) from exc
    try:
        body: dict[str, Any] = response.json()
    except json.JSONDecodeError:
        raise ApiError(f"{base_url} returned HTTP {response.status_code} without JSON") from None
    if response.status_code != 200:
        known = body.get("dashboards")
        hint = f" (dashboards: {', '.join(known)})" if known else ""
        raise ApiError(f"HTTP {response.status_code}: {body.get('error')}{hint}")
    return body


def format_table(columns: list[str], rows: list[list[Any]]) -> str:
    """Render rows as a text table with one header line, numbers aligned right."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(columns))
    ]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        parts = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def format_dashboards(body: Mapping[str, Any]) -> str:
    """Render the dashboard list: name, title and parameters with defaults."""
    lines = []
    for dashboard in body["dashboards"]:
        lines.append(f"{dashboard['name']}: {dashboard['title']}")
        for p in dashboard["parameters"]:
            default = "required" if p["required"] else f"default {p['default']}"
            lines.append(f"    --param {p['name']}=<{p['type']}>  ({default}) {p['description']}")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e15 else repr(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
