"""Shared fixtures: the artifact cache, a session-scoped Kafka broker and unique topics."""

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from core.settings import Settings
from stack import artifacts
from stack.broker import LocalBroker
from stack.topics import TopicSpec, ensure_topics

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def artifact_cache() -> Path:
    """The folder with the pinned artifacts; `make test` fetches them before pytest runs."""
    cache = Path(os.environ.get("RTPATH_CACHE_DIR", REPO_ROOT / ".rtpath" / "cache")).resolve()
    artifacts.fetch(cache, ["kafka"])
    return cache


def broker_settings(data_dir: Path, cache: Path) -> Settings:
    """Settings for a broker of its own: a fresh data folder and free ports."""
    return Settings(
        data_dir=data_dir,
        cache_dir=cache,
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        kafka_heap="512m",
        kafka_bootstrap=None,
    )


def _docker_reachable() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
        return True
    except Exception:  # any failure to reach the engine means "not reachable"
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap(
    tmp_path_factory: pytest.TempPathFactory, artifact_cache: Path
) -> Iterator[str]:
    """bootstrap.servers of a real Kafka broker shared by the whole test session.

    With RTPATH_TEST_SERVICES=containers and a reachable Docker engine this is a
    testcontainers Kafka container; otherwise the local KRaft broker on free ports.
    """
    if os.environ.get("RTPATH_TEST_SERVICES") == "containers":
        if _docker_reachable():
            from testcontainers.kafka import KafkaContainer

            with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
                yield container.get_bootstrap_server()
            return
        logger.warning(
            "RTPATH_TEST_SERVICES=containers but no Docker engine; using the local broker"
        )

    broker = LocalBroker(broker_settings(tmp_path_factory.mktemp("kafka"), artifact_cache))
    state, _ = broker.up()
    try:
        yield state.address
    finally:
        broker.down()


@pytest.fixture
def make_topic(
    kafka_bootstrap: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., str]]:
    """Create topics with names unique to this test; they are deleted after it."""
    created: list[str] = []

    def make(prefix: str = "t", partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = f"{prefix}-{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"
        name = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        ensure_topics(kafka_bootstrap, [TopicSpec(name, partitions, config or {})])
        created.append(name)
        return name

    yield make
    if created:
        admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
        for future in admin.delete_topics(created, operation_timeout=30).values():
            future.result()
