from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import load_settings
from rtpath.cli import build_parser, settings_from_args


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RTPATH_DATA_DIR", "RTPATH_KAFKA_PORT", "RTPATH_KAFKA_CONTROLLER_PORT",
                 "RTPATH_PARTITIONS", "RTPATH_LOG_LEVEL", "RTPATH_CACHE_DIR"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.data_dir == Path(".rtpath")
    assert settings.kafka_port == 9092
    assert settings.controller_port == 9093
    assert settings.bootstrap_servers == "127.0.0.1:9092"
    assert settings.cache_path == Path(".rtpath/cache").resolve()


def test_environment_overrides_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTPATH_KAFKA_PORT", "19092")
    monkeypatch.setenv("RTPATH_DATA_DIR", "/tmp/elsewhere")
    settings = load_settings()
    assert settings.kafka_port == 19092
    assert settings.controller_port == 19093
    assert settings.data_dir == Path("/tmp/elsewhere")


def test_flag_overrides_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTPATH_KAFKA_PORT", "19092")
    monkeypatch.setenv("RTPATH_DATA_DIR", "/tmp/from-env")
    args = build_parser().parse_args(["--data-dir", "/tmp/from-flag", "stack", "up",
                                      "--kafka-port", "29092"])  # fmt: skip
    settings = settings_from_args(args)
    assert settings.kafka_port == 29092
    assert settings.data_dir == Path("/tmp/from-flag")


def test_missing_flag_keeps_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTPATH_KAFKA_PORT", "19092")
    settings = settings_from_args(build_parser().parse_args(["stack", "up"]))
    assert settings.kafka_port == 19092


def test_invalid_port_names_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTPATH_KAFKA_PORT", "70000")
    with pytest.raises(ConfigError, match="kafka_port"):
        load_settings()


def test_unknown_setting_rejected() -> None:
    with pytest.raises(ConfigError, match="kafka_prot"):
        load_settings(kafka_prot=1)


def test_controller_port_must_differ() -> None:
    with pytest.raises(ConfigError, match="must differ"):
        load_settings(kafka_port=9000, kafka_controller_port=9000)


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError):
        settings.kafka_port = 1  # type: ignore[misc]
