"""The record schemas of the path, kept as `.avsc` files in the repository's `schemas/` folder.

`flight` and `airport` are the Avro value schemas of the input topics. `flights_enriched` and
`delays_by_airport_1m` describe the JSON rows Flink writes: the same field names and types.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema

from core.errors import ConfigError

# NOTE: the schemas are read from the source tree, so rtpath runs from a checkout
# (editable install), which is how `make setup` installs it.
SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"

NAMES = ("flight", "airport", "flights_enriched", "delays_by_airport_1m")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Return the schema `name` as plain JSON data."""
    if name not in NAMES:
        raise ConfigError(f"unknown schema {name!r}; known: {', '.join(NAMES)}")
    path = SCHEMAS_DIR / f"{name}.avsc"
    try:
        schema: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"schema file {path} is missing; run rtpath from a checkout") from exc
    return schema


@cache
def parsed_schema(name: str) -> Any:
    """Return the schema `name` parsed by fastavro, ready for its readers and writers."""
    return parse_schema(load_schema(name))


def field_names(name: str) -> list[str]:
    return [field["name"] for field in load_schema(name)["fields"]]
