"""Start the processes of a run, watch them, and stop every one of them on the way out."""

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from core.errors import RtpathError

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 30.0


class ProcessFailedError(RtpathError):
    """A supervised process exited while the run still needed it."""


@dataclass
class Supervised:
    """One child process with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float = field(default_factory=time.monotonic)

    def log_tail(self, lines: int = 20) -> str:
        try:
            content = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(content[-lines:])


class Supervisor:
    """Own a set of child processes: each runs in its own session, logs to a file, and is
    stopped with SIGTERM, then SIGKILL after a timeout, when the supervisor exits."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Supervised] = []

    def __enter__(self) -> "Supervisor":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()

    def start(
        self, name: str, args: Sequence[str], env: dict[str, str] | None = None
    ) -> Supervised:
        """Start `python -m rtpath ARGS` (or any argv when it starts with '/') as `name`."""
        argv = list(args) if args[0].startswith("/") else [sys.executable, "-m", "rtpath", *args]
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        child = Supervised(name, process, log_path)
        self.children.append(child)
        logger.info("started %s (pid %d), log %s", name, process.pid, log_path)
        return child

    def check(self) -> None:
        """Raise `ProcessFailedError` when a child has exited, with the end of its log."""
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise ProcessFailedError(
                    f"{child.name} (pid {child.process.pid}) exited with code {code}; "
                    f"last lines of {child.log_path}:\n{child.log_tail()}"
                )

    def wait(self, child: Supervised, timeout_s: float) -> int:
        """Wait for `child` to exit by itself and return its exit code.

        The child leaves the supervised set, so `check` no longer reports its exit.
        """
        try:
            code = child.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise ProcessFailedError(
                f"{child.name} (pid {child.process.pid}) did not finish within {timeout_s:.0f} s"
            ) from exc
        self.children.remove(child)
        logger.info("%s (pid %d) finished with exit code %d", child.name, child.process.pid, code)
        return code

    def stop(self, child: Supervised, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """Stop one child: SIGTERM to it, SIGKILL to its process group after `timeout_s`.

        Only the child itself gets SIGTERM, so it can stop its own helpers in order (the
        Flink job, for example, takes a savepoint through its JVM). Whatever is left of
        its process group afterwards is killed.
        """
        process = child.process
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                logger.warning("%s (pid %d) ignored SIGTERM for %.0f s; killing it",
                               child.name, process.pid, timeout_s)  # fmt: skip
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        _signal_group(process.pid, signal.SIGKILL)
        logger.info(
            "stopped %s (pid %d), exit code %s", child.name, process.pid, process.returncode
        )
        return process.returncode

    def stop_all(self) -> None:
        """Stop the children in reverse start order: the ones started last stop first."""
        for child in reversed(self.children):
            self.stop(child)
        self.children.clear()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
