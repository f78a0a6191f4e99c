"""Downloads from Maven Central, through mvn and over plain HTTPS."""

import shutil
from pathlib import Path

import pytest

from core.errors import ChecksumError
from stack.artifacts import artifact_path, fetch, load_lock, sha256_of

pytestmark = pytest.mark.integration

# The smallest jar of the lock keeps these downloads short.
SMALL_JAR = min(
    (a for a in load_lock() if a.coordinates.startswith("org.jspecify:")),
    key=lambda a: a.coordinates,
)


@pytest.mark.parametrize("use_tools", [True, False], ids=["mvn", "https"])
def test_corrupted_file_detected_and_replaced(tmp_path: Path, use_tools: bool) -> None:
    if use_tools and shutil.which("mvn") is None:
        pytest.skip("mvn is not on PATH")
    lock = [SMALL_JAR]
    (path,) = fetch(tmp_path, ["kafka"], use_tools=use_tools, lock=lock)
    assert sha256_of(path) == SMALL_JAR.sha256

    path.write_bytes(b"not the jar")
    with pytest.raises(ChecksumError, match=SMALL_JAR.sha256):
        fetch(tmp_path, ["kafka"], use_tools=use_tools, lock=lock)
    assert not path.exists()

    (again,) = fetch(tmp_path, ["kafka"], use_tools=use_tools, lock=lock)
    assert again == artifact_path(tmp_path, SMALL_JAR)
    assert sha256_of(again) == SMALL_JAR.sha256
