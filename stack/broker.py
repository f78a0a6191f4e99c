"""Run one Apache Kafka broker in KRaft combined mode (broker and controller) on loopback.

The broker runs from the pinned jars in the artifact cache, keeps its log segments and
metadata under `DATA_DIR/kafka`, and writes its log to `DATA_DIR/kafka/logs/broker.log`.
A state file records the pid and ports so that `status` and `down` find it again.
"""

import base64
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from core.errors import BrokerError
from core.settings import Settings
from stack import artifacts
from stack.java import check_java

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL_CLASS = "kafka.tools.StorageTool"


@dataclass(frozen=True)
class BrokerState:
    """State of a running broker, recorded by `up`."""

    pid: int
    host: str
    port: int
    controller_port: int
    started_at: float

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class LocalBroker:
    """A KRaft broker process owned by one data folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.kafka_dir
        self.config_path = self.home / "server.properties"
        self.state_path = self.home / "broker.json"
        self.storage_dir = self.home / "data"
        self.log_dir = self.home / "logs"

    # -- public commands ---------------------------------------------------------------

    def up(self, timeout_s: float = READY_TIMEOUT_S) -> tuple[BrokerState, bool]:
        """Start the broker unless it already runs; return its state and whether it started.

        Returns once a metadata request succeeds. Raises `BrokerError` when the ports are
        taken, the process exits early or it does not respond within `timeout_s`.
        """
        running = self.state()
        if running is not None:
            self._wait_ready(running, timeout_s, process=None)
            return running, False

        jars = artifacts.require(self.settings.cache_path, "kafka")
        java = check_java()
        host, port, controller_port = (
            self.settings.kafka_host,
            self.settings.kafka_port,
            self.settings.controller_port,
        )
        for taken in (port, controller_port):
            _check_port_free(host, taken)

        self.home.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self._server_properties())
        log4j_path = self.home / "log4j2.properties"
        log4j_path.write_text(resources.files("stack").joinpath("log4j2.properties").read_text())

        classpath = os.pathsep.join(str(j) for j in jars)
        jvm = [
            str(java),
            f"-Xmx{self.settings.kafka_heap}",
            "-Xms256m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j_path}",
            f"-Dkafka.logs.dir={self.log_dir}",
            "-cp",
            classpath,
        ]
        if not (self.storage_dir / "meta.properties").is_file():
            self._format_storage(jvm)

        console = (self.log_dir / "console.log").open("ab")
        started_at = time.time()
        process = subprocess.Popen(
            [*jvm, MAIN_CLASS, str(self.config_path)],
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.home,
            start_new_session=True,
        )
        console.close()
        state = BrokerState(process.pid, host, port, controller_port, started_at)
        self.state_path.write_text(json.dumps(asdict(state)))
        logger.info(
            "starting Kafka broker pid %d on %s (controller port %d, data %s, heap %s)",
            process.pid, state.address, controller_port, self.storage_dir, self.settings.kafka_heap,
        )  # fmt: skip
        try:
            self._wait_ready(state, timeout_s, process)
        except BrokerError:
            _terminate(process.pid, STOP_TIMEOUT_S)
            self.state_path.unlink(missing_ok=True)
            raise
        logger.info(
            "Kafka broker ready on %s after %.1f s", state.address, time.time() - started_at
        )
        return state, True

    def state(self) -> BrokerState | None:
        """Return the state of the running broker, or None when none runs for this folder."""
        try:
            state = BrokerState(**json.loads(self.state_path.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None
        if not _is_our_broker(state.pid, self.config_path):
            self.state_path.unlink(missing_ok=True)
            return None
        return state

    def down(self, timeout_s: float = STOP_TIMEOUT_S) -> BrokerState | None:
        """Stop the broker with SIGTERM, then SIGKILL after `timeout_s`; return what stopped."""
        state = self.state()
        if state is None:
            return None
        logger.info("stopping Kafka broker pid %d on %s", state.pid, state.address)
        killed = _terminate(state.pid, timeout_s)
        self.state_path.unlink(missing_ok=True)
        if killed:
            logger.warning(
                "broker pid %d ignored SIGTERM for %.0f s and was killed", state.pid, timeout_s
            )
        return state

    def log_tail(self, lines: int = 15) -> str:
        """Return the last lines of the broker and console logs, for error messages."""
        tails = []
        for name in ("broker.log", "console.log"):
            path = self.log_dir / name
            if path.is_file():
                content = path.read_text(errors="replace").splitlines()[-lines:]
                tails.append(f"--- {path} ---\n" + "\n".join(content))
        return "\n".join(tails)

    # -- internals ---------------------------------------------------------------------

    def _server_properties(self) -> str:
        s = self.settings
        host, port, cport = s.kafka_host, s.kafka_port, s.controller_port
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{host}:{cport}",
            "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{cport}",
            "advertised.listeners": f"PLAINTEXT://{host}:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.storage_dir),
            "num.partitions": str(s.partitions),
            "auto.create.topics.enable": "false",
            # One broker: every internal topic has one replica.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "8",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Consumer groups start at once instead of waiting 3 s for more members.
            "group.initial.rebalance.delay.ms": "0",
        }
        return "".join(f"{key}={value}\n" for key, value in props.items())

    def _format_storage(self, jvm: list[str]) -> None:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        logger.info("formatting KRaft storage in %s (cluster id %s)", self.storage_dir, cluster_id)
        result = subprocess.run(
            [*jvm, STORAGE_TOOL_CLASS, "format", "-t", cluster_id, "-c", str(self.config_path)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()[-1000:]
            raise BrokerError(f"formatting Kafka storage in {self.storage_dir} failed: {output}")

    def _wait_ready(
        self, state: BrokerState, timeout_s: float, process: subprocess.Popen[bytes] | None
    ) -> None:
        admin = AdminClient({"bootstrap.servers": state.address, "log_level": 0})
        deadline = time.monotonic() + timeout_s
        while True:
            if process is not None and process.poll() is not None:
                raise BrokerError(
                    f"Kafka broker exited with code {process.returncode} during startup; "
                    f"last log lines:\n{self.log_tail()}"
                )
            try:
                admin.list_topics(timeout=1.0)
                return
            except KafkaException:
                pass
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"Kafka broker on {state.address} did not respond to a metadata request within "
                    f"{timeout_s:.0f} s; last log lines:\n{self.log_tail()}"
                )
            time.sleep(0.2)


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise BrokerError(
                    f"port {port} on {host} is already in use by another process; stop it or "
                    "choose other ports with --kafka-port/--kafka-controller-port "
                    "(RTPATH_KAFKA_PORT, RTPATH_KAFKA_CONTROLLER_PORT)"
                ) from exc
            raise BrokerError(f"cannot bind {host}:{port}: {exc}") from exc


def _is_our_broker(pid: int, config_path: Path) -> bool:
    """Tell a live broker of this folder from a dead pid or a pid reused by another process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return MAIN_CLASS.encode() in cmdline and str(config_path).encode() in cmdline


def _terminate(pid: int, timeout_s: float) -> bool:
    """Send SIGTERM, wait up to `timeout_s`, then SIGKILL; return True if it was killed."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return False
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    while _alive(pid):
        time.sleep(0.05)
    return True


def _alive(pid: int) -> bool:
    # Reap the child when this process started it, so it does not linger as a zombie.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return status != "Z"


def wait_for_metadata(bootstrap_servers: str, timeout_s: float) -> None:
    """Block until a metadata request to `bootstrap_servers` succeeds."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin.list_topics(timeout=1.0)
            return
        except KafkaException as exc:
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"no Kafka broker responded on {bootstrap_servers} within {timeout_s:.0f} s"
                ) from exc
            time.sleep(0.2)
