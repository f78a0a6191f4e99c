"""Build the jar of the job's Java code from `jobs/java` with `javac`, without Maven.

The classes are compiled against the Flink jars inside the installed PyFlink package and the
pinned Avro jar. The jar also contains `jobs/java/resources` and `schemas/flight.avsc`
(next to `FlightDecoder`, which checks its fields when it opens). It is cached as
`<cache>/flink/rtpath-flink-functions-<digest>.jar`, where the digest covers every file that
goes into it, so an edited source builds a new jar and an unchanged one is reused.
"""

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from core.errors import JavaError, JobError
from core.schemas import SCHEMAS_DIR
from stack import artifacts

logger = logging.getLogger(__name__)

JAVA_DIR = Path(__file__).resolve().parent / "java"
SOURCE_DIR = JAVA_DIR / "src"
RESOURCE_DIR = JAVA_DIR / "resources"
SCHEMA_IN_JAR = "rtpath/flink/flight.avsc"
JAVA_RELEASE = "17"
JAR_PREFIX = "rtpath-flink-functions-"
COMPILE_TIMEOUT_S = 300


def javac_executable() -> Path:
    """Return `$JAVA_HOME/bin/javac` when JAVA_HOME is set, else `javac` from PATH."""
    home = os.environ.get("JAVA_HOME")
    found = (
        str(Path(home, "bin", "javac")) if home and Path(home, "bin", "javac").is_file() else None
    )
    found = found or shutil.which("javac")
    if found is None:
        raise JavaError(
            "javac was not found (JAVA_HOME/bin or PATH); the flights job compiles its Java "
            "functions with it: install a JDK 17 or newer "
            "(Debian: apt-get install openjdk-17-jdk-headless) or set JAVA_HOME to one"
        )
    return Path(found)


def source_files() -> list[Path]:
    return sorted(SOURCE_DIR.rglob("*.java"))


def resources() -> dict[str, Path]:
    """Return the files packaged into the jar as they are, by their path inside the jar."""
    files = {
        p.relative_to(RESOURCE_DIR).as_posix(): p for p in RESOURCE_DIR.rglob("*") if p.is_file()
    }
    files[SCHEMA_IN_JAR] = SCHEMAS_DIR / "flight.avsc"
    return dict(sorted(files.items()))


def source_digest() -> str:
    """Return the first 12 hex digits of a SHA-256 over the sources and resources."""
    digest = hashlib.sha256()
    inputs = [(p.relative_to(SOURCE_DIR).as_posix(), p) for p in source_files()]
    inputs += resources().items()
    for name, path in inputs:
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:12]


def jar_path(cache: Path) -> Path:
    return artifacts.artifact_dir(cache, "flink") / f"{JAR_PREFIX}{source_digest()}.jar"


def compile_classpath(cache: Path) -> list[Path]:
    """Return PyFlink's bundled Flink jars and the pinned Avro jar."""
    import pyflink

    flink_lib = Path(pyflink.__file__).resolve().parent / "lib"
    avro = [p for p in artifacts.require(cache, "flink") if p.name.startswith("avro-")]
    return sorted(flink_lib.glob("*.jar")) + avro


def build(cache: Path) -> Path:
    """Return the functions jar in `cache`, compiling and packaging it first if it is missing."""
    target = jar_path(cache)
    if target.is_file():
        logger.debug("reusing %s", target)
        return target
    started = time.monotonic()
    javac = javac_executable()
    sources = source_files()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rtpath-javac-") as scratch:
        classes = Path(scratch, "classes")
        command = [
            str(javac), "--release", JAVA_RELEASE, "-encoding", "UTF-8", "-nowarn",
            "-classpath", os.pathsep.join(str(p) for p in compile_classpath(cache)),
            "-d", str(classes), *(str(p) for p in sources),
        ]  # fmt: skip
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, check=False, timeout=COMPILE_TIMEOUT_S
            )
        except subprocess.TimeoutExpired as exc:
            raise JobError(f"javac did not finish within {COMPILE_TIMEOUT_S} s") from exc
        if result.returncode != 0:
            raise JobError(
                f"compiling the Java functions in {SOURCE_DIR} failed (javac exit code "
                f"{result.returncode}):\n{(result.stdout + result.stderr).strip()}"
            )
        # Write under a temporary name in the same folder and rename, so that a concurrent
        # build in another process never sees a partly written jar.
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            _package(classes, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    logger.info(
        "compiled %d Java sources into %s in %.1f s",
        len(sources), target, time.monotonic() - started,
    )  # fmt: skip
    return target


def _package(classes: Path, jar: Path) -> None:
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n")
        for path in sorted(classes.rglob("*.class")):
            archive.write(path, path.relative_to(classes).as_posix())
        for name, path in resources().items():
            archive.write(path, name)
