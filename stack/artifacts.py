"""Download and verify the pinned third-party artifacts listed in `artifacts.lock`.

Maven artifacts come from Maven Central, through `mvn` when it is on PATH (so a user's
mirror settings apply) and over plain HTTPS otherwise. Dataset files come from the npm
package tarball, through `npm pack` when npm is on PATH and over HTTPS otherwise. Every
file is checked against the SHA-256 digest pinned in the lock, on download and on reuse.
"""

import hashlib
import logging
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from core.errors import ArtifactError, ChecksumError

logger = logging.getLogger(__name__)

MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2"
NPM_REGISTRY = "https://registry.npmjs.org"
DOWNLOAD_TIMEOUT_S = 120

Group = Literal["kafka", "flink", "data"]


@dataclass(frozen=True)
class Artifact:
    """One pinned file: a Maven jar or a file inside an npm package tarball."""

    group: Group
    kind: Literal["maven", "npm"]
    coordinates: str
    sha256: str

    @property
    def file_name(self) -> str:
        if self.kind == "maven":
            _, artifact_id, version = self.coordinates.split(":")
            return f"{artifact_id}-{version}.jar"
        return self.coordinates.rsplit("/", 1)[1]

    @property
    def maven_path(self) -> str:
        group_id, artifact_id, version = self.coordinates.split(":")
        return f"{group_id.replace('.', '/')}/{artifact_id}/{version}/{self.file_name}"

    @property
    def npm_package(self) -> tuple[str, str, str]:
        """Return (package name, version, path inside the package) of an npm artifact."""
        spec, inner = self.coordinates.split("/", 1)
        name, version = spec.rsplit("@", 1)
        return name, version, inner


def load_lock(text: str | None = None) -> list[Artifact]:
    """Parse the lock: one tab-separated `group kind coordinates sha256` line per artifact."""
    if text is None:
        text = resources.files("stack").joinpath("artifacts.lock").read_text()
    artifacts = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 4 or fields[0] not in ("kafka", "flink", "data"):
            raise ArtifactError(f"artifacts.lock line {number} is malformed: {line!r}")
        group, kind, coordinates, sha256 = fields
        if kind not in ("maven", "npm") or len(sha256) != 64:
            raise ArtifactError(f"artifacts.lock line {number} is malformed: {line!r}")
        artifacts.append(Artifact(group, kind, coordinates, sha256))  # type: ignore[arg-type]
    return artifacts


def artifact_dir(cache: Path, group: Group) -> Path:
    return cache / group


def artifact_path(cache: Path, artifact: Artifact) -> Path:
    return artifact_dir(cache, artifact.group) / artifact.file_name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, expected: str) -> None:
    """Raise `ChecksumError` and delete `path` when its digest is not `expected`."""
    actual = sha256_of(path)
    if actual != expected:
        path.unlink()
        raise ChecksumError(str(path), expected, actual)


def missing(cache: Path, groups: Iterable[Group]) -> list[Path]:
    """Return the pinned files of `groups` that are not in the cache (no digest check)."""
    wanted = set(groups)
    return [
        artifact_path(cache, a)
        for a in load_lock()
        if a.group in wanted and not artifact_path(cache, a).is_file()
    ]


def require(cache: Path, group: Group) -> list[Path]:
    """Return the files of `group`, or raise naming the command that fetches them."""
    absent = missing(cache, [group])
    if absent:
        raise ArtifactError(
            f"{len(absent)} pinned {group} artifact(s) are missing from {cache}, "
            f"for example {absent[0].name}; run `rtpath stack fetch` first"
        )
    return [artifact_path(cache, a) for a in load_lock() if a.group == group]


def fetch(
    cache: Path,
    groups: Iterable[Group] = ("kafka", "flink", "data"),
    *,
    use_tools: bool = True,
    lock: list[Artifact] | None = None,
) -> list[Path]:
    """Make every pinned file of `groups` present and verified in `cache`; return their paths.

    Cached files are re-verified; a file whose digest does not match is deleted and
    `ChecksumError` is raised, so the next fetch downloads it again. `use_tools=False` skips
    `mvn` and `npm` and uses HTTPS only. `lock` replaces the packaged lock (for tests).
    """
    wanted = set(groups)
    artifacts = [a for a in (lock if lock is not None else load_lock()) if a.group in wanted]
    todo = []
    for artifact in artifacts:
        path = artifact_path(cache, artifact)
        if path.is_file():
            verify(path, artifact.sha256)
        else:
            todo.append(artifact)
    logger.info(
        "%d of %d artifacts cached in %s", len(artifacts) - len(todo), len(artifacts), cache
    )

    maven = [a for a in todo if a.kind == "maven"]
    npm = [a for a in todo if a.kind == "npm"]
    if maven:
        _fetch_maven(cache, maven, use_tools and shutil.which("mvn") is not None)
    if npm:
        _fetch_npm(cache, npm, use_tools and shutil.which("npm") is not None)

    for artifact in todo:
        path = artifact_path(cache, artifact)
        if not path.is_file():
            raise ArtifactError(f"{artifact.coordinates} was not downloaded to {path}")
        verify(path, artifact.sha256)
    return [artifact_path(cache, a) for a in artifacts]


def _fetch_maven(cache: Path, artifacts: list[Artifact], use_mvn: bool) -> None:
    if use_mvn:
        # One Maven run per group, because a POM can list only one version of a jar and
        # groups pin different versions of some (Jackson, for example).
        for group in sorted({a.group for a in artifacts}):
            try:
                _copy_with_mvn(cache, [a for a in artifacts if a.group == group])
            except ArtifactError as exc:
                logger.warning("mvn could not copy the %s artifacts (%s); using HTTPS", group, exc)
        artifacts = [a for a in artifacts if not artifact_path(cache, a).is_file()]
    for number, artifact in enumerate(artifacts, start=1):
        url = f"{MAVEN_CENTRAL}/{artifact.maven_path}"
        logger.info("downloading %d/%d %s", number, len(artifacts), url)
        _download(url, artifact_path(cache, artifact))


def _copy_with_mvn(cache: Path, artifacts: list[Artifact]) -> None:
    """Copy the artifacts with one Maven run over a throwaway POM that lists them all."""
    with tempfile.TemporaryDirectory(prefix="rtpath-mvn-") as scratch:
        pom = Path(scratch) / "pom.xml"
        pom.write_text(_pom_listing(artifacts))
        command = [
            "mvn", "-B", "-q", "-f", str(pom),
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
            "-DexcludeTransitive=true",
            f"-DoutputDirectory={scratch}/out",
        ]  # fmt: skip
        logger.info("copying %d Maven artifacts with mvn", len(artifacts))
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
            raise ArtifactError(f"mvn exited with {result.returncode}: {' | '.join(tail)}")
        for artifact in artifacts:
            source = Path(scratch, "out", artifact.file_name)
            if source.is_file():
                target = artifact_path(cache, artifact)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(source, target)


def _pom_listing(artifacts: list[Artifact]) -> str:
    dependencies = []
    for artifact in artifacts:
        group_id, artifact_id, version = artifact.coordinates.split(":")
        dependencies.append(
            f"<dependency><groupId>{group_id}</groupId><artifactId>{artifact_id}</artifactId>"
            f"<version>{version}</version></dependency>"
        )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>rtpath</groupId><artifactId>fetch</artifactId><version>0</version>"
        f"<dependencies>{''.join(dependencies)}</dependencies></project>\n"
    )


def _fetch_npm(cache: Path, artifacts: list[Artifact], use_npm: bool) -> None:
    packages = {a.npm_package[:2] for a in artifacts}
    for name, version in sorted(packages):
        with tempfile.TemporaryDirectory(prefix="rtpath-npm-") as scratch:
            tarball = _npm_tarball(name, version, Path(scratch), use_npm)
            with tarfile.open(tarball, "r:gz") as archive:
                for artifact in artifacts:
                    if artifact.npm_package[:2] != (name, version):
                        continue
                    member = archive.extractfile(f"package/{artifact.npm_package[2]}")
                    if member is None:
                        raise ArtifactError(f"{artifact.coordinates} is not a file in {tarball}")
                    target = artifact_path(cache, artifact)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with member, target.open("wb") as out:
                        shutil.copyfileobj(member, out)


def _npm_tarball(name: str, version: str, folder: Path, use_npm: bool) -> Path:
    if use_npm:
        logger.info("fetching %s@%s with npm pack", name, version)
        result = subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--silent", "--pack-destination", str(folder)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        tarballs = list(folder.glob("*.tgz"))
        if result.returncode == 0 and len(tarballs) == 1:
            return tarballs[0]
        logger.warning("npm pack failed (exit %d: %s); falling back to HTTPS",
                       result.returncode, result.stderr.strip()[-200:])  # fmt: skip
    url = f"{NPM_REGISTRY}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"
    target = folder / f"{name}-{version}.tgz"
    logger.info("downloading %s", url)
    _download(url, target)
    return target


def _download(url: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with (
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response,
            partial.open("wb") as out,
        ):
            shutil.copyfileobj(response, out, 1 << 20)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ArtifactError(f"download of {url} failed: {exc}") from exc
    partial.replace(target)
