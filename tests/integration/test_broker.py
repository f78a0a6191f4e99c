"""The local KRaft broker, against real Kafka jars."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource

from core import topics
from core.errors import BrokerError
from stack.broker import LocalBroker
from stack.topics import design_topics, ensure_topics, list_topics
from tests.conftest import broker_settings, free_port

pytestmark = pytest.mark.integration


def consume_all(bootstrap: str, topic: str, count: int, timeout_s: float = 30.0) -> list:
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"test-{topic}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })  # fmt: skip
    consumer.subscribe([topic])
    messages = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(messages) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            messages.append(message)
    finally:
        consumer.close()
    return messages


def test_round_trip_keeps_bytes_keys_headers(kafka_bootstrap: str, make_topic) -> None:
    topic = make_topic("roundtrip")
    sent = [
        (
            f"key-{i}".encode(),
            bytes(range(i, i + 40)),
            [("source", b"test"), ("n", str(i).encode())],
        )
        for i in range(100)
    ]
    sent.append((None, b"", []))
    sent.append(("ключ-ü".encode(), "значение ✓".encode(), [("empty", b"")]))
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "acks": "all",
                         "enable.idempotence": True})  # fmt: skip
    for key, value, headers in sent:
        producer.produce(topic, key=key, value=value, headers=headers)
    assert producer.flush(30) == 0

    received = consume_all(kafka_bootstrap, topic, len(sent))
    assert len(received) == len(sent)
    for message, (key, value, headers) in zip(received, sent, strict=True):
        assert message.key() == key
        assert message.value() == value
        assert (message.headers() or []) == headers


def test_design_topics_created(kafka_bootstrap: str) -> None:
    created = ensure_topics(kafka_bootstrap, design_topics(partitions=3))
    existing = list_topics(kafka_bootstrap)
    assert existing[topics.FLIGHTS] == 3
    assert existing[topics.dead_letter_topic(topics.FLIGHTS)] == 3
    assert existing[topics.AIRPORTS] == 1
    assert set(created) <= set(existing)
    # A second call creates nothing and does not fail.
    assert ensure_topics(kafka_bootstrap, design_topics(partitions=3)) == []

    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    resource = ConfigResource(ConfigResource.Type.TOPIC, topics.AIRPORTS)
    config = admin.describe_configs([resource])[resource].result()
    assert config["cleanup.policy"].value == "compact"


def kafka_processes(config_path: Path) -> list[int]:
    """Pids of java processes running a broker with this config file."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kafka.Kafka" in cmdline and str(config_path).encode() in cmdline:
            found.append(int(entry.name))
    return found


def rtpath(
    data_dir: Path, cache: Path, port: int, cport: int, *args: str
) -> subprocess.CompletedProcess:
    env = {**os.environ, "RTPATH_DATA_DIR": str(data_dir), "RTPATH_CACHE_DIR": str(cache),
           "RTPATH_KAFKA_HEAP": "512m"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "rtpath", "stack", *args,
         "--kafka-port", str(port), "--kafka-controller-port", str(cport), "--partitions", "2"],
        capture_output=True, text=True, env=env, timeout=180, check=False,
    )  # fmt: skip


def test_cli_data_survives_restart_single_instance(tmp_path: Path, artifact_cache: Path) -> None:
    port, cport = free_port(), free_port()
    config_path = (tmp_path / "kafka" / "server.properties").resolve()
    try:
        first = rtpath(tmp_path, artifact_cache, port, cport, "up")
        assert first.returncode == 0, first.stderr
        assert f"kafka broker ready on 127.0.0.1:{port}" in first.stdout
        pids = kafka_processes(config_path)
        assert len(pids) == 1

        second = rtpath(tmp_path, artifact_cache, port, cport, "up")
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stderr
        assert kafka_processes(config_path) == pids

        other_port = free_port()
        elsewhere = rtpath(tmp_path, artifact_cache, other_port, free_port(), "up")
        assert elsewhere.returncode == 1
        assert f"already runs on 127.0.0.1:{port}, not on port {other_port}" in elsewhere.stderr
        assert kafka_processes(config_path) == pids

        status = rtpath(tmp_path, artifact_cache, port, cport, "status")
        assert status.returncode == 0, status.stderr
        assert f"pid {pids[0]}, address 127.0.0.1:{port}" in status.stdout
        assert "topic flights: 2 partition(s)" in status.stdout

        bootstrap = f"127.0.0.1:{port}"
        producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
        for i in range(10):
            producer.produce(topics.FLIGHTS, key=b"ORD", value=f"event-{i}".encode())
        assert producer.flush(30) == 0

        down = rtpath(tmp_path, artifact_cache, port, cport, "down")
        assert down.returncode == 0, down.stderr
        assert f"kafka broker stopped (pid {pids[0]})" in down.stdout
        assert kafka_processes(config_path) == []

        again = rtpath(tmp_path, artifact_cache, port, cport, "up")
        assert again.returncode == 0, again.stderr
        values = sorted(m.value() for m in consume_all(bootstrap, topics.FLIGHTS, 10))
        assert values == sorted(f"event-{i}".encode() for i in range(10))
    finally:
        rtpath(tmp_path, artifact_cache, port, cport, "down")
    assert kafka_processes(config_path) == []


def test_busy_port_gives_clear_error(tmp_path: Path, artifact_cache: Path) -> None:
    settings = broker_settings(tmp_path, artifact_cache)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", settings.kafka_port))
        squatter.listen()
        with pytest.raises(BrokerError) as caught:
            LocalBroker(settings).up()
    message = str(caught.value)
    assert f"port {settings.kafka_port} on 127.0.0.1 is already in use" in message
    assert "Exception" not in message
    assert kafka_processes(settings.kafka_dir / "server.properties") == []


def test_busy_port_cli_exit_code(tmp_path: Path, artifact_cache: Path) -> None:
    port, cport = free_port(), free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = rtpath(tmp_path, artifact_cache, port, cport, "up")
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert "at org.apache" not in result.stderr


def test_missing_artifacts_name_fetch(tmp_path: Path) -> None:
    settings = broker_settings(tmp_path, tmp_path / "empty-cache")
    with pytest.raises(Exception, match="run `rtpath stack fetch` first"):
        LocalBroker(settings).up()
