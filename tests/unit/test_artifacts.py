import hashlib
from pathlib import Path

import pytest

from core.errors import ArtifactError, ChecksumError
from stack.artifacts import Artifact, load_lock, require, verify


def test_lock_parses_every_group() -> None:
    lock = load_lock()
    groups = {a.group for a in lock}
    assert groups == {"kafka", "flink", "data"}
    coordinates = {a.coordinates for a in lock}
    assert "org.apache.kafka:kafka_2.13:4.1.2" in coordinates
    assert "org.apache.kafka:kafka-tools:4.1.2" in coordinates
    assert "org.apache.flink:flink-sql-connector-kafka:5.0.0-2.2" in coordinates
    assert "vega-datasets@3.2.1/data/flights-3m.parquet" in coordinates


def test_lock_file_names_unique_per_group() -> None:
    lock = load_lock()
    for group in ("kafka", "flink", "data"):
        names = [a.file_name for a in lock if a.group == group]
        assert len(names) == len(set(names)), group


def test_malformed_lock_line_rejected() -> None:
    with pytest.raises(ArtifactError, match="line 2 is malformed"):
        load_lock("# header\nkafka\tmaven\tg:a:1\n")


def test_artifact_paths() -> None:
    jar = Artifact("kafka", "maven", "org.apache.kafka:kafka-clients:4.1.2", "0" * 64)
    assert jar.file_name == "kafka-clients-4.1.2.jar"
    assert jar.maven_path == "org/apache/kafka/kafka-clients/4.1.2/kafka-clients-4.1.2.jar"
    data = Artifact("data", "npm", "vega-datasets@3.2.1/data/airports.csv", "0" * 64)
    assert data.file_name == "airports.csv"
    assert data.npm_package == ("vega-datasets", "3.2.1", "data/airports.csv")


def test_verify_accepts_matching_digest(tmp_path: Path) -> None:
    path = tmp_path / "a.jar"
    path.write_bytes(b"payload")
    verify(path, hashlib.sha256(b"payload").hexdigest())
    assert path.read_bytes() == b"payload"


def test_verify_deletes_corrupted_file(tmp_path: Path) -> None:
    path = tmp_path / "a.jar"
    path.write_bytes(b"corrupted")
    expected = hashlib.sha256(b"payload").hexdigest()
    with pytest.raises(ChecksumError) as caught:
        verify(path, expected)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message
    assert hashlib.sha256(b"corrupted").hexdigest() in message
    assert not path.exists()


def test_require_names_fetch_command(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="run `rtpath stack fetch` first"):
        require(tmp_path, "kafka")
