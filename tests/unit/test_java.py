import os
from pathlib import Path

import pytest

from core.errors import JavaError
from stack.java import check_java, parse_major_version


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "11.0.2" 2019-01-15', 11),
    ],
)
def test_parse_major_version(output: str, major: int) -> None:
    assert parse_major_version(output) == major


def test_unreadable_version_raises() -> None:
    with pytest.raises(JavaError, match="cannot read the Java version"):
        parse_major_version("command not found")


def fake_java_home(tmp_path: Path, version: str) -> Path:
    """A JAVA_HOME whose bin/java prints `version` the way `java -version` does."""
    java = tmp_path / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2020-01-01' >&2\n")
    java.chmod(0o755)
    return tmp_path


def test_old_java_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(fake_java_home(tmp_path, "11.0.2")))
    with pytest.raises(JavaError, match="is Java 11, but Java 17 or newer is required"):
        check_java()


def test_java_home_without_java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(JavaError, match="has no bin/java"):
        check_java()


def test_missing_java_names_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", os.devnull)
    with pytest.raises(JavaError, match="java was not found on PATH"):
        check_java()
