"""Errors of the dashboards and the query API; each maps onto one HTTP status."""

from core.errors import RtpathError


class DashboardError(RtpathError):
    """A dashboard `.sql` file is invalid: bad header, undeclared or unused parameter."""


class UnknownDashboard(RtpathError):
    """No dashboard has the requested name (HTTP 404)."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"dashboard {name!r} not found; known dashboards: {', '.join(known)}")
        self.name = name
        self.known = known


class InvalidParameter(RtpathError):
    """A query parameter is missing, unknown or malformed (HTTP 400)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"parameter {name!r}: {problem}")
        self.name = name


class RejectedQuery(RtpathError):
    """A statement the API does not run because it could write or change settings (HTTP 400)."""


class QueryFailed(RtpathError):
    """ClickHouse rejected or failed a read query, for example on a syntax error (HTTP 400)."""


class QueryTimeout(RtpathError):
    """A query ran longer than max_execution_time and ClickHouse cut it off (HTTP 504)."""


class StoreUnavailable(RtpathError):
    """ClickHouse cannot be reached, or every API connection stayed busy (HTTP 503)."""
