"""Settings of the producers: Kafka client options, input files and the replay plan."""

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from core import topics
from core.settings import Settings

Compression = Literal["none", "gzip", "snappy", "lz4", "zstd"]


class ProducerSettings(Settings):
    """Kafka client options shared by the flight and airport producers.

    `linger_ms`, `batch_size` and `compression` keep the meaning of the librdkafka options
    `linger.ms`, `batch.size` and `compression.type`. The benchmark passes the same values
    to Kafka's Java perf tool.
    """

    linger_ms: int = Field(5, ge=0, le=900_000, description="linger.ms of the producer.")
    batch_size: int = Field(
        1_000_000, ge=1, le=2_147_483_647, description="batch.size of the producer, in bytes."
    )
    compression: Compression = Field("none", description="compression.type of the producer.")
    queue_max_messages: int = Field(
        100_000, ge=1, le=2_147_483_647,
        description="queue.buffering.max.messages: maximum events in the local queue "
        "before produce() raises BufferError.",
    )  # fmt: skip
    queue_full_timeout_s: float = Field(
        30.0, gt=0, description="How long one send waits for room in a full local queue."
    )
    flush_timeout_s: float = Field(
        30.0, ge=0, description="How long the producer waits on exit for outstanding events."
    )
    progress_interval_s: float = Field(5.0, gt=0, description="Seconds between progress lines.")


class FlightProducerSettings(ProducerSettings):
    """Input, rate, length and process count of `rtpath produce flights`."""

    topic: str = Field(topics.FLIGHTS, min_length=1, description="Topic of the flight events.")
    input: Path | None = Field(
        None,
        description="Parquet or CSV file with the columns date, delay, distance, origin and "
        "destination; defaults to flights-3m.parquet in the artifact cache.",
    )
    rate: float | None = Field(
        None, gt=0, allow_inf_nan=False,
        description="Target events per second over all processes; none = max.",
    )  # fmt: skip
    duration_s: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="Stop sending after this long."
    )
    count: int | None = Field(None, ge=0, description="Events to send over all processes.")
    loop: bool = Field(False, description="Replay the file again, with new event ids, at its end.")
    processes: int = Field(1, ge=1, le=256, description="Producer processes sharing the work.")
    synthetic: bool = Field(
        False, description="Sample events from the file's distributions instead of replaying."
    )
    seed: int | None = Field(
        None, ge=0, lt=2**63, description="Seed of the synthetic sampler; random when unset."
    )
    batch_rows: int = Field(
        8_192,
        ge=1,
        le=1_048_576,
        description="Rows read, checked and encoded per batch. Encoding a batch pauses the "
        "send loop, so larger batches add to the delivery latency at a fixed rate.",
    )

    @model_validator(mode="after")
    def _check_rate(self) -> "FlightProducerSettings":
        if self.rate is not None and self.rate < self.processes:
            raise ValueError(
                f"rate {self.rate:g} events/s is below one event/s per process "
                f"({self.processes} processes); raise the rate or lower the processes"
            )
        return self

    @property
    def dead_letter_topic(self) -> str:
        return topics.dead_letter_topic(self.topic)

    @property
    def input_path(self) -> Path:
        return (self.input or self.cache_path / "data" / "flights-3m.parquet").resolve()


class AirportProducerSettings(ProducerSettings):
    """Input file and topic of `rtpath produce airports`."""

    topic: str = Field(topics.AIRPORTS, min_length=1, description="Compacted airports topic.")
    input: Path | None = Field(
        None, description="airports.csv; defaults to the one in the artifact cache."
    )

    @property
    def input_path(self) -> Path:
        return (self.input or self.cache_path / "data" / "airports.csv").resolve()


def client_config(settings: ProducerSettings, **extra: Any) -> dict[str, Any]:
    """Return the librdkafka configuration of a producer: acks=all and idempotence on.

    `murmur2_random` places a key on the same partition as Kafka's Java clients do, so
    producers in other languages agree on where an origin's events go.
    """
    config: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": settings.linger_ms,
        "batch.size": settings.batch_size,
        "compression.type": settings.compression,
        "queue.buffering.max.messages": settings.queue_max_messages,
        "partitioner": "murmur2_random",
    }
    config.update(extra)
    return config
