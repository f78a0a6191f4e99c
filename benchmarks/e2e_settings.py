"""Settings of `rtpath bench e2e` and `rtpath bench locust`, apart so the CLI can parse
them without loading the benchmarks. Each field can also be set as `RTPATH_<NAME>`."""

from pathlib import Path

from pydantic import Field, field_validator

from benchmarks.e2e_steps import parse_rates
from core.settings import Settings


class PathBenchSettings(Settings):
    """Ports and commit interval of a path that a benchmark starts for itself."""

    api_port: int = Field(8124, ge=1, le=65535, description="Port of the query API.")
    flink_rest_port: int = Field(8081, ge=1, le=65535, description="Port of the Flink REST API.")
    iceberg_commit_interval_s: float = Field(
        5.0, gt=0, description="Seconds between Iceberg commits of the Iceberg sink."
    )
    out: Path | None = Field(
        None, description="Output folder; defaults to DATA_DIR/bench/<benchmark>-<timestamp>."
    )


class E2eSettings(PathBenchSettings):
    """Settings of `rtpath bench e2e`."""

    preload_rows: int = Field(
        10_000_000, ge=0,
        description="Rows to store in ClickHouse before the steps, replayed at full speed; "
        "0 skips the preload.",
    )  # fmt: skip
    preload_timeout_s: float = Field(
        7200.0, gt=0, description="Seconds the preload may take until both stores hold it."
    )
    rates: tuple[float, ...] = Field(
        (2000.0, 5000.0, 10_000.0, 20_000.0, 50_000.0),
        description="Offered events per second of the steps, increasing.",
    )
    warmup_s: float = Field(20.0, ge=0, description="Seconds of each step before measuring.")
    measure_s: float = Field(60.0, gt=0, description="Seconds of each step's measured interval.")
    target_ms: float = Field(
        200.0, gt=0, description="Target of p99 freshness and p99 dashboard query latency."
    )
    lag_limit_s: float = Field(
        2.0, gt=0,
        description="A step has not sustained its rate when ClickHouse trails the flights "
        "topic, or the job's lag grew, by more than this many seconds of events.",
    )  # fmt: skip
    min_rate_fraction: float = Field(
        0.95, gt=0, le=1, description="Share of the offered rate the producer must send."
    )
    query_interval_s: float = Field(
        0.2, gt=0, description="Seconds between the intended starts of dashboard queries."
    )
    idle_settle_s: float = Field(
        5.0, ge=0, description="Seconds to wait after the stores drained before idle queries."
    )
    idle_query_s: float = Field(
        10.0, gt=0, description="Seconds of dashboard queries with ingest stopped."
    )
    drain_timeout_s: float = Field(
        300.0, gt=0, description="Seconds to wait after a step for both stores to catch up."
    )
    kafka_latency_messages: int = Field(
        5000, ge=100, description="Messages of Kafka's EndToEndLatency run."
    )
    kafka_latency_message_bytes: int = Field(
        50, ge=1,
        description="Message size of Kafka's EndToEndLatency run, in bytes; the default is "
        "about the mean encoded flight event.",
    )  # fmt: skip
    progress_interval_s: float = Field(5.0, gt=0, description="Seconds between progress lines.")

    @field_validator("rates", mode="before")
    @classmethod
    def _parse_rates(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            value = ",".join(str(rate) for rate in value)
        return parse_rates(value) if isinstance(value, str) else value


class LocustSettings(PathBenchSettings):
    """Settings of `rtpath bench locust`."""

    duration_s: float = Field(60.0, gt=0, description="Seconds Locust runs.")
    users: int = Field(4, ge=2, description="Locust users, spread over both user types.")
    spawn_rate: float = Field(4.0, gt=0, description="Users started per second.")
    api_url: str | None = Field(
        None, description="URL of a running query API; none starts a path of its own."
    )
    topic: str = Field("flights", min_length=1, description="Topic the Kafka users send to.")
    events_per_user: float = Field(
        1000.0, gt=0, description="Events per second of each Kafka producer user."
    )
