"""Typed query parameters: parse request text into the text ClickHouse binds server-side.

Values never enter the SQL text: ClickHouse parses each bound value as the type that the
placeholder `{name:Type}` declares. This module checks the value first, so a bad value is a
400 that names the parameter instead of a server error. It also catches out-of-range integers,
which ClickHouse 26.9 wraps without an error (300 bound as UInt8 becomes 44).
"""

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from dashboards.errors import DashboardError, InvalidParameter

MAX_STRING_LENGTH = 10_000

INTEGER_TYPE = re.compile(r"^(U?)Int(8|16|32|64)$")
DATETIME_TYPE = re.compile(
    r"^DateTime(?:64\((?P<precision>\d)(?:, *'(?P<tz>[^']*)')?\)|\('(?P<tz0>[^']*)'\))$"
)
NULLABLE_TYPE = re.compile(r"^Nullable\((?P<inner>.+)\)$")


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of a dashboard: name, ClickHouse type, default and description.

    `default` is the request text used when the request omits the parameter; `None` makes the
    parameter required. For a Nullable type the text `NULL` stands for SQL NULL.
    """

    name: str
    type: str
    default: str | None
    description: str

    def __post_init__(self) -> None:
        check_supported_type(self.name, self.type)
        if self.default is not None:
            try:
                parse_value(self, self.default)
            except InvalidParameter as exc:
                raise DashboardError(f"default of {exc}") from exc

    @property
    def required(self) -> bool:
        return self.default is None


def _inner_type(type_name: str) -> tuple[str, bool]:
    match = NULLABLE_TYPE.match(type_name)
    return (match.group("inner"), True) if match else (type_name, False)


def check_supported_type(name: str, type_name: str) -> None:
    """Raise `DashboardError` unless this module can check values of `type_name`."""
    inner, _ = _inner_type(type_name)
    if INTEGER_TYPE.match(inner) or inner in ("Float32", "Float64", "String", "Date"):
        return
    match = DATETIME_TYPE.match(inner)
    if match and (match.group("tz") or match.group("tz0")) == "UTC":
        return
    raise DashboardError(
        f"parameter {name!r} has unsupported type {type_name}; use (U)Int8-64, Float32/64, "
        "String, Date, DateTime('UTC') or DateTime64(p, 'UTC'), optionally Nullable"
    )


def parse_value(parameter: Parameter, text: str) -> str | None:
    """Check `text` against the parameter's type; return the text to bind, `None` for NULL."""
    inner, nullable = _inner_type(parameter.type)
    if nullable and text.upper() == "NULL":
        return None
    integer = INTEGER_TYPE.match(inner)
    if integer:
        return _parse_integer(parameter.name, text, unsigned=bool(integer.group(1)),
                              bits=int(integer.group(2)))  # fmt: skip
    if inner.startswith("Float"):
        return _parse_float(parameter.name, text)
    if inner == "String":
        if len(text) > MAX_STRING_LENGTH:
            raise InvalidParameter(parameter.name, f"longer than {MAX_STRING_LENGTH} characters")
        return text
    if inner == "Date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidParameter(parameter.name, f"{text!r} is not a date YYYY-MM-DD") from None
    match = DATETIME_TYPE.match(inner)
    assert match is not None, "check_supported_type admits no other type"
    precision = int(match.group("precision") or 0)
    return _parse_datetime(parameter.name, text, precision)


def _parse_integer(name: str, text: str, unsigned: bool, bits: int) -> str:
    if not re.fullmatch(r"-?[0-9]+", text):
        raise InvalidParameter(name, f"{text!r} is not an integer")
    value = int(text)
    low, high = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if not low <= value <= high:
        raise InvalidParameter(name, f"{value} is out of range {low}..{high}")
    return str(value)


def _parse_float(name: str, text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        raise InvalidParameter(name, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidParameter(name, f"{text!r} is not a finite number")
    return repr(value)


def _parse_datetime(name: str, text: str, precision: int) -> str:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidParameter(
            name, f"{text!r} is not an ISO 8601 time such as 2026-01-15T12:00:00Z"
        ) from None
    if value.tzinfo is None:
        raise InvalidParameter(name, f"{text!r} has no time zone; add Z or an offset like +02:00")
    utc = value.astimezone(UTC)
    rendered = utc.strftime("%Y-%m-%d %H:%M:%S")
    if precision:
        rendered += "." + f"{utc.microsecond:06d}"[:precision].ljust(precision, "0")
    return rendered
