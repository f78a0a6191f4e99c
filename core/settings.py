"""Typed, frozen settings: CLI flags over `RTPATH_*` environment variables over defaults."""

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    """Settings shared by every rtpath role.

    Values passed to the constructor (the CLI flags) win over `RTPATH_<NAME>` environment
    variables, which win over the defaults below.
    """

    model_config = SettingsConfigDict(env_prefix="RTPATH_", frozen=True, extra="forbid")

    data_dir: Path = Field(
        Path(".rtpath"), description="Folder for data, logs and downloads of local runs."
    )
    cache_dir: Path | None = Field(
        None, description="Folder for downloaded artifacts; defaults to DATA_DIR/cache."
    )
    log_level: LogLevel = "INFO"

    kafka_host: str = Field("127.0.0.1", description="Address the local broker listens on.")
    kafka_port: int = Field(9092, ge=1, le=65535, description="Port of the broker listener.")
    kafka_controller_port: int | None = Field(
        None, ge=1, le=65535, description="Port of the KRaft controller; defaults to KAFKA_PORT+1."
    )
    kafka_bootstrap: str | None = Field(
        None, description="bootstrap.servers of an external Kafka; defaults to the local broker."
    )
    kafka_heap: str = Field("1g", pattern=r"^\d+[mg]$", description="JVM heap of the broker.")
    partitions: int = Field(6, ge=1, le=1024, description="Partitions of each created topic.")

    @model_validator(mode="after")
    def _check_ports(self) -> "Settings":
        if self.controller_port == self.kafka_port:
            raise ValueError("kafka_controller_port must differ from kafka_port")
        if self.controller_port > 65535:
            raise ValueError(
                f"kafka_controller_port defaults to kafka_port+1 = {self.controller_port}, "
                "which is out of range; set kafka_controller_port"
            )
        return self

    @property
    def controller_port(self) -> int:
        return self.kafka_controller_port or self.kafka_port + 1

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap or f"{self.kafka_host}:{self.kafka_port}"

    @property
    def cache_path(self) -> Path:
        return (self.cache_dir or self.data_dir / "cache").resolve()

    @property
    def kafka_dir(self) -> Path:
        return (self.data_dir / "kafka").resolve()

    @property
    def logs_dir(self) -> Path:
        return (self.data_dir / "logs").resolve()


SettingsT = TypeVar("SettingsT", bound=Settings)


def load_settings(model: type[SettingsT] = Settings, **overrides: Any) -> SettingsT:  # type: ignore[assignment]
    """Build `model` from CLI overrides; a `None` override means the flag was not given.

    Roles extend `Settings` with their own fields in a subclass, which keeps the
    `RTPATH_` prefix and the flag, environment, default precedence.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return model(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
