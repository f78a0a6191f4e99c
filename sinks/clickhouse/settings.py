"""Settings of the ClickHouse sink."""

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, model_validator

from core import topics
from core.settings import Settings

# One batch must stay one block of ClickHouse's insert pipeline, so that an insert is atomic.
# ClickHouse squashes inserted rows into blocks of min_insert_block_size_rows (1,048,449 by
# default), so batches stay well below it.
MAX_BATCH_ROWS = 1_000_000


class ClickHouseSinkSettings(Settings):
    """Settings of `rtpath sink clickhouse`, read as `RTPATH_CLICKHOUSE_*` variables or flags."""

    clickhouse_url: str | None = Field(
        None,
        description=(
            "URL of a ClickHouse server over HTTP, such as http://user:password@host:8123; "
            "default: chDB in this process on DATA_DIR/clickhouse."
        ),
    )
    clickhouse_database: str = Field(
        "rtpath", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Database of the tables."
    )
    clickhouse_flights_topic: str = Field(
        topics.FLIGHTS_ENRICHED, description="Topic read into the flights_enriched table."
    )
    clickhouse_windows_topic: str = Field(
        topics.DELAYS_BY_AIRPORT_1M, description="Topic read into the delays_by_airport_1m table."
    )
    clickhouse_group_id: str = Field(
        "rtpath-sink-clickhouse",
        description="Kafka consumer group; offsets committed there only report lag.",
    )
    clickhouse_batch_rows: int = Field(
        20_000, ge=1, le=MAX_BATCH_ROWS, description="Rows of one topic that trigger an insert."
    )
    clickhouse_flush_interval_ms: int = Field(
        50, ge=1, le=600_000, description="Maximum age in ms of a buffered row before an insert."
    )
    clickhouse_insert_attempts: int = Field(
        6,
        ge=1,
        le=100,
        description="Attempts of one insert before a transient error stops the sink.",
    )
    clickhouse_retry_backoff_s: float = Field(
        0.2, gt=0, le=60, description="Base of the jittered exponential backoff between attempts."
    )
    clickhouse_start_when_empty: Literal["earliest", "latest"] = Field(
        "earliest", description="Where to start a partition that has no rows in ClickHouse yet."
    )
    clickhouse_progress_interval_s: float = Field(
        5.0, gt=0, description="Seconds between progress log lines."
    )
    clickhouse_stop_at_end: bool = Field(
        False,
        description=(
            "Exit once every partition is stored up to the end offset it had when the sink "
            "started, instead of running until stopped."
        ),
    )

    @model_validator(mode="after")
    def _check_topics(self) -> "ClickHouseSinkSettings":
        if self.clickhouse_flights_topic == self.clickhouse_windows_topic:
            raise ValueError(
                f"clickhouse_flights_topic and clickhouse_windows_topic are both "
                f"{self.clickhouse_flights_topic!r}; each table needs its own topic"
            )
        return self

    @property
    def clickhouse_dir(self) -> Path:
        return (self.data_dir / "clickhouse").resolve()

    @property
    def clickhouse_dsn(self) -> str:
        """Return the clickhouse-connect DSN: the server URL, or chDB on the data folder."""
        return self.clickhouse_url or f"chdb://{self.clickhouse_dir}"

    @property
    def clickhouse_target(self) -> str:
        """Return the DSN with any password masked, for logs."""
        parts = urlsplit(self.clickhouse_dsn)
        if parts.password is None:
            return self.clickhouse_dsn
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))

    def topic_tables(self) -> dict[str, str]:
        """Return each source topic with the table it lands in."""
        return {
            self.clickhouse_flights_topic: "flights_enriched",
            self.clickhouse_windows_topic: "delays_by_airport_1m",
        }
