"""Find a Java runtime and check its version."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from core.errors import JavaError

MIN_JAVA = 17


def java_executable() -> Path:
    """Return `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` from PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home, "bin", "java")
        if candidate.is_file():
            return candidate
        raise JavaError(
            f"JAVA_HOME={home} has no bin/java; point JAVA_HOME at a Java {MIN_JAVA}+ JDK"
        )
    found = shutil.which("java")
    if found is None:
        raise JavaError(
            f"java was not found on PATH; install Java {MIN_JAVA} or newer "
            "(Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    return Path(found)


def parse_major_version(version_output: str) -> int:
    """Return the major version from `java -version` output ("1.8.0_392" gives 8)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        raise JavaError(f"cannot read the Java version from: {version_output.strip()[:200]!r}")
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    return major


def check_java() -> Path:
    """Return the Java executable, or raise `JavaError` when it is older than Java 17."""
    java = java_executable()
    result = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False)
    major = parse_major_version(result.stderr or result.stdout)
    if major < MIN_JAVA:
        raise JavaError(
            f"{java} is Java {major}, but Java {MIN_JAVA} or newer is required; "
            "install it or set JAVA_HOME to it"
        )
    return java
