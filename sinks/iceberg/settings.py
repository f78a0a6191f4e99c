"""Settings of the Iceberg sink and of `rtpath iceberg maintain`."""

from pathlib import Path
from typing import Literal

from pydantic import Field

from core import topics
from core.settings import Settings

TableName = Literal["flights_enriched", "delays_by_airport_1m"]
TABLE_NAMES: tuple[TableName, ...] = ("flights_enriched", "delays_by_airport_1m")


class IcebergSettings(Settings):
    """Settings of the Iceberg sink, read as `RTPATH_ICEBERG_*` variables or CLI flags."""

    iceberg_catalog: str | None = Field(
        None,
        description=(
            "Name of a pyiceberg catalog configured in .pyiceberg.yaml or PYICEBERG_CATALOG__* "
            "variables; default: a SQL catalog on SQLite under DATA_DIR/iceberg."
        ),
    )
    iceberg_namespace: str = Field(
        "rtpath", pattern=r"^[A-Za-z0-9_]+$", description="Namespace that holds the tables."
    )
    iceberg_tables: tuple[TableName, ...] = Field(
        TABLE_NAMES, min_length=1, description="Tables the sink writes, each from its topic."
    )
    iceberg_flights_topic: str = Field(
        topics.FLIGHTS_ENRICHED, description="Topic read into the flights_enriched table."
    )
    iceberg_windows_topic: str = Field(
        topics.DELAYS_BY_AIRPORT_1M, description="Topic read into the delays_by_airport_1m table."
    )
    iceberg_group_id: str = Field(
        "rtpath-sink-iceberg",
        description="Kafka consumer group; offsets committed there only report lag.",
    )
    iceberg_commit_interval_s: float = Field(
        30.0, gt=0, description="Maximum age in seconds of uncommitted rows before a commit."
    )
    iceberg_commit_rows: int = Field(
        100_000, ge=1, description="Uncommitted rows of one table that trigger a commit."
    )
    iceberg_commit_attempts: int = Field(
        8, ge=1, description="Attempts of one commit before a conflict becomes an error."
    )
    iceberg_retry_backoff_s: float = Field(
        0.2, gt=0, description="Base of the jittered exponential backoff between attempts."
    )
    iceberg_synthetic: bool = Field(
        False,
        description=(
            "Mark both tables as holding synthetic data; flights_enriched is also marked "
            "by itself when a committed row has is_synthetic = true."
        ),
    )
    iceberg_stop_at_end: bool = Field(
        False,
        description=(
            "Exit after committing everything up to the end offsets the topics had when their "
            "partitions were assigned, instead of running until stopped."
        ),
    )

    @property
    def iceberg_dir(self) -> Path:
        return (self.data_dir / "iceberg").resolve()

    def topic_of(self, table: TableName) -> str:
        """Return the topic the sink reads into `table`."""
        if table == "flights_enriched":
            return self.iceberg_flights_topic
        return self.iceberg_windows_topic
