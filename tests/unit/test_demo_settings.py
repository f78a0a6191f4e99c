import pytest

from core.errors import ConfigError
from core.settings import load_settings
from rtpath.demo_settings import DemoSettings


def test_defaults_valid() -> None:
    settings = load_settings(DemoSettings, kafka_port=9092)
    assert settings.warmup_s == 20.0
    assert settings.duration_s == 60.0


def test_warmup_longer_than_run_rejected() -> None:
    with pytest.raises(ConfigError, match=r"warmup_s \(20 s\) must be shorter than duration_s"):
        load_settings(DemoSettings, duration_s=5)


@pytest.mark.parametrize(
    "overrides",
    [
        {"kafka_port": 9492, "api_port": 9492},
        {"kafka_port": 9492, "flink_rest_port": 9493},
        {"api_port": 8081},
    ],
)
def test_clashing_ports_rejected(overrides: dict[str, int]) -> None:
    with pytest.raises(ConfigError, match="the demo's ports must all differ"):
        load_settings(DemoSettings, **overrides)
