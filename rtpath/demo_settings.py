"""Settings of `rtpath demo`, apart so the CLI can parse them without loading the demo."""

from pathlib import Path

from pydantic import Field, model_validator

from core.settings import Settings


class DemoSettings(Settings):
    """Settings of `rtpath demo`."""

    duration_s: float = Field(60.0, gt=0, description="Seconds the producer replays flights.")
    rate: float = Field(10_000.0, gt=0, description="Events per second the producer sends.")
    warmup_s: float = Field(
        20.0, ge=0, description="Seconds at the start left out of the freshness figures."
    )
    api_port: int = Field(8124, ge=1, le=65535, description="Port of the query API.")
    flink_rest_port: int = Field(8081, ge=1, le=65535, description="Port of the Flink REST API.")
    iceberg_commit_interval_s: float = Field(
        5.0, gt=0, description="Iceberg commit interval; short so the demo ends soon after input."
    )
    drain_timeout_s: float = Field(
        120.0, gt=0, description="Seconds to wait for both stores to hold every event."
    )
    query_interval_s: float = Field(
        0.2, gt=0, description="Seconds between dashboard queries while the producer runs."
    )
    progress_interval_s: float = Field(5.0, gt=0, description="Seconds between progress lines.")

    @model_validator(mode="after")
    def _check_warmup(self) -> "DemoSettings":
        if self.warmup_s >= self.duration_s:
            raise ValueError(
                f"warmup_s ({self.warmup_s:g} s) must be shorter than duration_s "
                f"({self.duration_s:g} s), or no row is left to measure; pass a shorter --warmup"
            )
        ports = {
            "kafka_port": self.kafka_port,
            "kafka_controller_port": self.controller_port,
            "api_port": self.api_port,
            "flink_rest_port": self.flink_rest_port,
        }
        if len(set(ports.values())) < len(ports):
            listed = ", ".join(f"{name} {port}" for name, port in ports.items())
            raise ValueError(f"the demo's ports must all differ, got {listed}")
        return self

    @property
    def demo_dir(self) -> Path:
        return (self.data_dir / "demo").resolve()
