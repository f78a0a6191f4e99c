"""Limits of every query the API runs, as ClickHouse settings."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class QueryLimits:
    """Limits every API query runs with; names follow the ClickHouse settings they set."""

    max_execution_time: float = 10.0
    max_result_rows: int = 10_000
    max_memory_usage: int = 1_000_000_000

    def session_settings(self) -> dict[str, Any]:
        """Return the ClickHouse settings to apply in order, `readonly` last."""
        return {
            "max_execution_time": self.max_execution_time,
            "max_result_rows": self.max_result_rows,
            "result_overflow_mode": "throw",
            "max_memory_usage": self.max_memory_usage,
            "readonly": 1,
        }
