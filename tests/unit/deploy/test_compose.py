"""docker-compose.yml cannot run here (no Docker engine), so check what can drift from code."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.produce_settings import ProduceBenchSettings
from dashboards.settings import ApiSettings
from jobs.settings import JobSettings
from producers.settings import AirportProducerSettings
from rtpath.cli import build_parser
from rtpath.demo_settings import DemoSettings
from sinks.clickhouse.settings import ClickHouseSinkSettings
from sinks.iceberg.settings import IcebergSettings

REPO_ROOT = Path(__file__).resolve().parents[3]
SETTINGS_MODELS = (
    ProduceBenchSettings, AirportProducerSettings, JobSettings, ClickHouseSinkSettings,
    IcebergSettings, ApiSettings, DemoSettings,
)  # fmt: skip


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    return loaded


def rtpath_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("image") == "rtpath:local"
    }


def test_rtpath_services_present(compose: dict[str, Any]) -> None:
    names = set(rtpath_services(compose))
    assert names == {"topics", "airports", "job", "sink-clickhouse", "sink-iceberg", "api",
                     "producer"}  # fmt: skip


def test_commands_parse(compose: dict[str, Any]) -> None:
    parser = build_parser()
    for name, service in rtpath_services(compose).items():
        args = parser.parse_args(service["command"])
        assert callable(args.handler), name


def test_environment_names_settings(compose: dict[str, Any]) -> None:
    fields = {name for model in SETTINGS_MODELS for name in model.model_fields}
    for service in rtpath_services(compose).values():
        for variable in service["environment"]:
            if variable.startswith("RTPATH_"):
                assert variable.removeprefix("RTPATH_").lower() in fields, variable


def test_dockerfile_exists(compose: dict[str, Any]) -> None:
    for service in rtpath_services(compose).values():
        assert (REPO_ROOT / service["build"]["dockerfile"]).is_file()


def test_published_ports_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            assert mapping.startswith("127.0.0.1:"), f"{name} publishes {mapping}"
