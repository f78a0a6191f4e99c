"""Logging setup for rtpath entry points. Library modules only call `logging.getLogger`."""

import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """Send log records at `level` and above to stderr, once per process."""
    root = logging.getLogger()
    if not any(getattr(h, "_rtpath", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._rtpath = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # librdkafka and the HTTP clients are chatty at INFO.
    for name in ("urllib3", "httpx", "testcontainers"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
