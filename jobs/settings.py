"""Settings of the PyFlink jobs: a frozen extension of the shared `Settings`."""

from pathlib import Path
from typing import Literal

from pydantic import Field

from core import topics
from core.settings import Settings

Enrichment = Literal["udf", "temporal-join"]


class JobSettings(Settings):
    """Settings of `rtpath job run` and `rtpath bench job`.

    Topic names are settings so that tests and benchmarks can run the same SQL against
    topics of their own.
    """

    parallelism: int = Field(1, ge=1, le=256, description="Parallelism of every operator.")
    checkpoint_interval_ms: int = Field(
        10_000, ge=100, description="Interval between checkpoints, in milliseconds."
    )
    rest_port: int = Field(
        8081, ge=1, le=65535, description="Port of the Flink REST API on 127.0.0.1."
    )
    group_id: str = Field("rtpath-jobs", min_length=1, description="Kafka consumer group.")
    enrichment: Enrichment = Field(
        "udf",
        description="How flights get airport attributes: a Python UDF over the compacted "
        "airports topic, or an event-time temporal join (kept for comparison).",
    )
    flights_topic: str = topics.FLIGHTS
    airports_topic: str = topics.AIRPORTS
    enriched_topic: str = topics.FLIGHTS_ENRICHED
    windows_topic: str = topics.DELAYS_BY_AIRPORT_1M
    late_topic: str = topics.FLIGHTS_LATE
    flights_dead_letter_topic: str | None = Field(
        None, description="Topic of undecodable flight records; defaults to FLIGHTS_TOPIC.dlq."
    )

    @property
    def dead_letter_topic(self) -> str:
        return self.flights_dead_letter_topic or topics.dead_letter_topic(self.flights_topic)

    @property
    def flink_dir(self) -> Path:
        return (self.data_dir / "flink").resolve()

    @property
    def checkpoint_dir(self) -> Path:
        return self.flink_dir / "checkpoints"

    @property
    def savepoint_dir(self) -> Path:
        return self.flink_dir / "savepoints"
