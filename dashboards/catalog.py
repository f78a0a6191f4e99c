"""Dashboards: `.sql` files under `dashboards/sql/` whose header comment declares parameters.

Header format, before the statement:

    -- <title: one line>
    -- <description: any further lines>
    -- @param <name> <ClickHouse type> [= <default>]: <description>

The statement refers to each parameter as `{name:Type}` with exactly the declared type, and
ClickHouse binds the values server-side.
"""

import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboards.errors import DashboardError, InvalidParameter, RejectedQuery, UnknownDashboard
from dashboards.guard import check_read_only
from dashboards.parameters import Parameter, parse_value

logger = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent / "sql"

PARAM_LINE = re.compile(
    r"^--\s*@param\s+(?P<name>[A-Za-z_]\w*)\s+(?P<type>[^=:]+?)"
    r"(?:\s*=\s*(?P<default>[^:]*?))?\s*:\s*(?P<description>.+)$"
)
PLACEHOLDER = re.compile(r"\{\s*(?P<name>[A-Za-z_]\w*)\s*:\s*(?P<type>[^}]+?)\s*\}")


@dataclass(frozen=True)
class Dashboard:
    """One dashboard query: its name (the file stem), text, SQL and declared parameters."""

    name: str
    title: str
    description: str
    sql: str
    parameters: tuple[Parameter, ...]

    def bind(self, values: Mapping[str, str]) -> dict[str, str | None]:
        """Check request values and fill defaults; return the parameters to bind.

        Raises `InvalidParameter` for an unknown name, a missing required value or a value
        its type rejects.
        """
        declared = {p.name: p for p in self.parameters}
        for name in values:
            if name not in declared:
                raise InvalidParameter(
                    name, f"unknown; {self.name} takes {', '.join(declared) or 'no parameters'}"
                )
        bound: dict[str, str | None] = {}
        for parameter in self.parameters:
            text = values.get(parameter.name, parameter.default)
            if text is None:
                raise InvalidParameter(
                    parameter.name, f"missing; it is required ({parameter.description})"
                )
            bound[parameter.name] = parse_value(parameter, text)
        return bound

    def describe(self) -> dict[str, Any]:
        """Return the JSON description that `GET /dashboards` lists."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "parameters": [
                {
                    "name": p.name,
                    "type": p.type,
                    "default": p.default,
                    "required": p.required,
                    "description": p.description,
                }
                for p in self.parameters
            ],
        }


def parse_dashboard(name: str, text: str) -> Dashboard:
    """Build a dashboard from the text of its `.sql` file; raise `DashboardError` if invalid."""
    header: list[str] = []
    parameters: list[Parameter] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        match = PARAM_LINE.match(stripped)
        if match:
            parameters.append(
                Parameter(
                    name=match.group("name"),
                    type=_normalize_type(match.group("type")),
                    default=match.group("default"),
                    description=match.group("description").strip(),
                )
            )
        elif "@param" in stripped:
            raise DashboardError(
                f"{name}: cannot parse {stripped!r}; expected "
                "'-- @param <name> <Type> [= <default>]: <description>'"
            )
        elif not parameters:
            header.append(stripped.lstrip("-").strip())
    if not header or not header[0]:
        raise DashboardError(f"{name}: the first line must be a comment with the title")

    _check_placeholders(name, text, parameters)
    try:
        sql = check_read_only(text)
    except RejectedQuery as exc:
        raise DashboardError(f"{name}: not a read-only statement: {exc}") from exc
    return Dashboard(
        name=name,
        title=header[0],
        description=" ".join(line for line in header[1:] if line),
        sql=sql,
        parameters=tuple(parameters),
    )


def _normalize_type(type_name: str) -> str:
    return re.sub(r"\s*,\s*", ", ", type_name.strip())


def _check_placeholders(name: str, text: str, parameters: list[Parameter]) -> None:
    declared = {p.name: p.type for p in parameters}
    repeated = sorted(n for n, count in Counter(p.name for p in parameters).items() if count > 1)
    if repeated:
        raise DashboardError(f"{name}: parameters {repeated} are declared more than once")
    used: set[str] = set()
    for match in PLACEHOLDER.finditer(text):
        placeholder, type_name = match.group("name"), _normalize_type(match.group("type"))
        if placeholder not in declared:
            raise DashboardError(f"{name}: placeholder {{{placeholder}}} is not declared")
        if type_name != declared[placeholder]:
            raise DashboardError(
                f"{name}: placeholder {{{placeholder}}} has type {type_name}, "
                f"but the header declares {declared[placeholder]}"
            )
        used.add(placeholder)
    unused = sorted(set(declared) - used)
    if unused:
        raise DashboardError(f"{name}: declared parameters {unused} are not used")


def load_dashboards(folder: Path = SQL_DIR) -> dict[str, Dashboard]:
    """Load every `*.sql` file of `folder`, keyed by file stem, in name order."""
    dashboards = {}
    for path in sorted(folder.glob("*.sql")):
        dashboards[path.stem] = parse_dashboard(path.stem, path.read_text(encoding="utf-8"))
    if not dashboards:
        raise DashboardError(f"no dashboard .sql files in {folder}")
    logger.debug("loaded %d dashboards from %s", len(dashboards), folder)
    return dashboards


def find_dashboard(dashboards: Mapping[str, Dashboard], name: str) -> Dashboard:
    """Return the dashboard called `name`, or raise `UnknownDashboard` listing the names."""
    try:
        return dashboards[name]
    except KeyError:
        raise UnknownDashboard(name, sorted(dashboards)) from None
