"""Build the PyFlink table environment the jobs run in: a local MiniCluster.

Deployment options live here; the options that set latency and semantics are `SET` lines
in `jobs/sql/settings.sql`.
"""

import logging
import os
import site
import sys
from pathlib import Path

from core.errors import ConfigError
from jobs import functions_jar
from jobs.settings import JobSettings
from jobs.udfs import AIRPORTS_TOPIC_PARAMETER, BOOTSTRAP_PARAMETER
from stack import artifacts

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
SUPPORTED_PYTHON = (3, 11)


def check_python() -> None:
    """Raise `ConfigError` unless this is the Python version rtpath is built and tested on."""
    if sys.version_info[:2] != SUPPORTED_PYTHON:
        version = ".".join(str(v) for v in sys.version_info[:3])
        raise ConfigError(
            f"Python {version} is not supported by the jobs; PyFlink 2.2.1 here needs Python "
            f"{SUPPORTED_PYTHON[0]}.{SUPPORTED_PYTHON[1]}: recreate .venv with `make setup`"
        )


def prepare_python_path() -> None:
    """Put site-packages and the repository on PYTHONPATH for Python functions.

    In thread mode the functions run in an interpreter embedded in the Java gateway that
    PyFlink starts, which imports from PYTHONPATH only ("No module named 'pemja'" without
    site-packages). It must be set before the first table environment starts the gateway.
    """
    wanted = [*site.getsitepackages(), str(REPO_ROOT)]
    current = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(wanted + current))


def flink_options(settings: JobSettings, recovery_path: Path | None) -> dict[str, str]:
    """Return the deployment options of a job run with `settings`."""
    jars = [
        *artifacts.require(settings.cache_path, "flink"),
        functions_jar.build(settings.cache_path),
    ]
    options = {
        "pipeline.jars": ";".join(path.resolve().as_uri() for path in jars),
        "pipeline.name": "rtpath-flights",
        "parallelism.default": str(settings.parallelism),
        # Flink's map syntax splits on ',' and then on ':', both of which occur in bootstrap
        # servers, so each item is double-quoted and its key and value single-quoted.
        "pipeline.global-job-parameters": (
            f"\"'{BOOTSTRAP_PARAMETER}':'{settings.bootstrap_servers}'\","
            f"\"'{AIRPORTS_TOPIC_PARAMETER}':'{settings.airports_topic}'\""
        ),
        "rest.bind-address": "127.0.0.1",
        "rest.address": "127.0.0.1",
        "rest.port": str(settings.rest_port),
        "execution.checkpointing.interval": f"{settings.checkpoint_interval_ms} ms",
        "execution.checkpointing.dir": settings.checkpoint_dir.as_uri(),
        "execution.checkpointing.savepoint-dir": settings.savepoint_dir.as_uri(),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": "2",
        "python.executable": sys.executable,
        "python.client.executable": sys.executable,
    }
    if recovery_path is not None:
        options["execution.state-recovery.path"] = recovery_path.as_uri()
    return options


def latest_snapshot(settings: JobSettings) -> Path | None:
    """Return the newest complete checkpoint or savepoint of earlier runs, if any.

    A checkpoint or savepoint is complete when its folder contains a `_metadata` file.
    """
    candidates = [
        *settings.checkpoint_dir.glob("*/chk-*/_metadata"),
        *settings.savepoint_dir.glob("savepoint-*/_metadata"),
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda path: path.stat().st_mtime).parent
