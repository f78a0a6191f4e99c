import pytest

from dashboards.catalog import load_dashboards, parse_dashboard
from dashboards.errors import DashboardError, InvalidParameter
from dashboards.parameters import Parameter, parse_value

UNTIL = "Nullable(DateTime64(3, 'UTC'))"


def parameter(type_name: str, default: str | None = None) -> Parameter:
    return Parameter(name="p", type=type_name, default=default, description="test")


@pytest.mark.parametrize(
    ("type_name", "text", "bound"),
    [
        ("UInt32", "15", "15"),
        ("UInt8", "255", "255"),
        ("Int8", "-128", "-128"),
        ("Float64", "1.5", "1.5"),
        ("String", "ORD' OR 1=1 --", "ORD' OR 1=1 --"),
        ("Date", "2026-01-15", "2026-01-15"),
        (UNTIL, "NULL", None),
        (UNTIL, "2026-01-15T12:00:00Z", "2026-01-15 12:00:00.000"),
        (UNTIL, "2026-01-15T14:00:00.123456+02:00", "2026-01-15 12:00:00.123"),
        ("DateTime('UTC')", "2026-01-15T12:00:00.9Z", "2026-01-15 12:00:00"),
    ],
)
def test_parameter_binds_value(type_name: str, text: str, bound: str | None) -> None:
    assert parse_value(parameter(type_name), text) == bound


@pytest.mark.parametrize(
    ("type_name", "text", "problem"),
    [
        ("UInt32", "1; DROP TABLE t", "not an integer"),
        ("UInt32", "-1", "out of range 0..4294967295"),
        ("UInt8", "300", "out of range 0..255"),
        ("Int64", "9223372036854775808", "out of range"),
        ("Float64", "nan", "not a finite number"),
        ("Float64", "1e", "not a number"),
        ("String", "x" * 10_001, "longer than 10000"),
        ("Date", "15/01/2026", "not a date"),
        (UNTIL, "2026-01-15T12:00:00", "no time zone"),
        (UNTIL, "yesterday", "not an ISO 8601 time"),
        ("UInt32", "NULL", "not an integer"),
    ],
)
def test_parameter_rejects_value(type_name: str, text: str, problem: str) -> None:
    with pytest.raises(InvalidParameter, match=problem) as caught:
        parse_value(parameter(type_name), text)
    assert caught.value.name == "p"


@pytest.mark.parametrize(
    "type_name", ["Array(String)", "DateTime64(3)", "DateTime", "Decimal(9, 2)"]
)
def test_unsupported_parameter_type(type_name: str) -> None:
    with pytest.raises(DashboardError, match="unsupported type"):
        parameter(type_name)


def test_invalid_default_rejected() -> None:
    with pytest.raises(DashboardError, match="default"):
        parameter("UInt32", "ten")


GOOD = """-- Title line
-- More words.
-- @param n UInt32 = 5: How many.
-- @param code String: Airport code.
SELECT {code:String} AS code, number FROM numbers({n:UInt32})
"""


def test_parse_dashboard_header() -> None:
    dashboard = parse_dashboard("demo", GOOD)
    assert dashboard.title == "Title line"
    assert dashboard.description == "More words."
    assert [(p.name, p.type, p.default, p.required) for p in dashboard.parameters] == [
        ("n", "UInt32", "5", False),
        ("code", "String", None, True),
    ]
    assert dashboard.sql.startswith("SELECT {code:String}")


def test_bind_fills_defaults_and_checks() -> None:
    dashboard = parse_dashboard("demo", GOOD)
    assert dashboard.bind({"code": "ORD"}) == {"n": "5", "code": "ORD"}
    with pytest.raises(InvalidParameter, match="'code': missing"):
        dashboard.bind({})
    with pytest.raises(InvalidParameter, match="'x': unknown"):
        dashboard.bind({"code": "ORD", "x": "1"})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (GOOD.replace("{n:UInt32}", "{n:UInt64}"), "has type UInt64"),
        (GOOD.replace("{n:UInt32}", "{m:UInt32}"), "not declared"),
        (GOOD.replace("numbers({n:UInt32})", "numbers(3)"), "not used"),
        (GOOD.replace("-- @param n UInt32 = 5: How many.", "-- @param n"), "cannot parse"),
        (GOOD.replace("SELECT", "INSERT INTO t SELECT"), "not a read-only statement"),
        ("SELECT 1", "title"),
        (GOOD.replace("-- @param code", "-- @param n UInt32: Again.\n-- @param code"), "'n'"),
    ],
)
def test_invalid_dashboard_file(text: str, problem: str) -> None:
    with pytest.raises(DashboardError, match=problem):
        parse_dashboard("demo", text)


def test_shipped_dashboards_load() -> None:
    dashboards = load_dashboards()
    assert sorted(dashboards) == [
        "airport_delay_trend", "busy_routes", "delayed_origins", "freshness", "state_delays",
    ]  # fmt: skip
    for dashboard in dashboards.values():
        assert dashboard.parameters[-1].name == "until"
        assert dashboard.parameters[-1].default == "NULL"
