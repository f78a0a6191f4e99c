"""Settings of the query API and of `rtpath query`, its command-line client."""

from pathlib import Path

from pydantic import Field

from core.settings import Settings
from dashboards.limits import QueryLimits


class ApiSettings(Settings):
    """Settings of the query API: listen address, ClickHouse target and query limits.

    The limit names are the ClickHouse settings they set.
    """

    api_host: str = Field("127.0.0.1", description="Address the query API listens on.")
    api_port: int = Field(8700, ge=0, le=65535, description="Port of the query API.")
    api_url: str | None = Field(
        None, description="URL `rtpath query` calls; defaults to http://API_HOST:API_PORT."
    )
    api_pool_size: int = Field(
        2, ge=1, le=64, description="ClickHouse connections the API opens, one query each."
    )
    clickhouse_url: str | None = Field(
        None, description="ClickHouse server URL (http://user:password@host:8123); unset: chDB."
    )
    chdb_path: Path | None = Field(
        None, description="chDB data folder when CLICKHOUSE_URL is unset; DATA_DIR/clickhouse."
    )
    clickhouse_database: str = Field(
        "rtpath", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Database of the tables."
    )
    max_execution_time: float = Field(
        10.0, gt=0, le=3600, description="Seconds after which ClickHouse cuts a query off."
    )
    max_result_rows: int = Field(10_000, ge=1, description="Rows a result may have at most.")
    max_memory_usage: int = Field(
        1_000_000_000, ge=10_000_000, description="Bytes of memory a query may use at most."
    )

    @property
    def chdb_folder(self) -> Path:
        return (self.chdb_path or self.data_dir / "clickhouse").resolve()

    @property
    def api_base_url(self) -> str:
        host = f"[{self.api_host}]" if ":" in self.api_host else self.api_host
        return (self.api_url or f"http://{host}:{self.api_port}").rstrip("/")

    @property
    def limits(self) -> QueryLimits:
        return QueryLimits(
            max_execution_time=self.max_execution_time,
            max_result_rows=self.max_result_rows,
            max_memory_usage=self.max_memory_usage,
        )
