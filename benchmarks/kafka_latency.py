"""Kafka's own end-to-end latency tool, the broker-only floor of the path's freshness.

`org.apache.kafka.tools.EndToEndLatency` from the pinned kafka-tools jar sends one message
at a time, waits until its consumer receives it, and reports the round trip's percentiles
in whole milliseconds. So its p50 and p99 are what one produce plus one fetch cost on this
broker, with nothing else of the path in between.
"""

import logging
import os
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from core.errors import RtpathError
from stack import artifacts
from stack.java import check_java
from stack.topics import TopicSpec, ensure_topics

logger = logging.getLogger(__name__)

TOOL_CLASS = "org.apache.kafka.tools.EndToEndLatency"
AVERAGE = re.compile(r"Avg latency: (?P<avg>[\d.]+) ms")
PERCENTILES = re.compile(
    r"Percentiles: 50th = (?P<p50>\d+), 99th = (?P<p99>\d+), 99\.9th = (?P<p999>\d+)"
)
TIMEOUT_S = 600.0


class KafkaLatencyError(RtpathError):
    """Kafka's EndToEndLatency tool failed or printed no percentiles."""


def parse_output(output: str) -> dict[str, float]:
    """Return avg, p50, p99 and p99.9 (milliseconds) from the tool's standard output."""
    average = AVERAGE.search(output)
    percentiles = PERCENTILES.search(output)
    if average is None or percentiles is None:
        raise KafkaLatencyError(
            f"{TOOL_CLASS} printed no 'Avg latency' and 'Percentiles' lines: {output[-1500:]}"
        )
    return {
        "avg_ms": float(average["avg"]),
        "p50_ms": float(percentiles["p50"]),
        "p99_ms": float(percentiles["p99"]),
        "p999_ms": float(percentiles["p999"]),
    }


def run_end_to_end_latency(
    bootstrap_servers: str, cache: Path, messages: int, message_bytes: int
) -> dict[str, Any]:
    """Run EndToEndLatency with acks=all on a topic of its own, deleted afterwards."""
    jars = artifacts.require(cache, "kafka")
    java = check_java()
    topic = f"bench-e2e-latency-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap_servers, [TopicSpec(topic, 1)])

    command = [
        str(java), "-Xmx256m", "-cp", os.pathsep.join(str(jar) for jar in jars), TOOL_CLASS,
        bootstrap_servers, topic, str(messages), "all", str(message_bytes),
    ]  # fmt: skip
    logger.info("running %s %s", TOOL_CLASS, " ".join(command[5:]))
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise KafkaLatencyError(
            f"{TOOL_CLASS} did not finish {messages} messages within {TIMEOUT_S:.0f} s; "
            "pass a smaller --kafka-latency-messages"
        ) from exc
    finally:
        admin = AdminClient({"bootstrap.servers": bootstrap_servers})
        for future in admin.delete_topics([topic], operation_timeout=30).values():
            future.result()
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-2000:]
        raise KafkaLatencyError(f"{TOOL_CLASS} failed with code {result.returncode}: {output}")

    figures: dict[str, Any] = parse_output(result.stdout)
    figures.update(messages=messages, message_bytes=message_bytes, acks="all")
    logger.info(
        "Kafka end-to-end latency: p50 %.0f ms, p99 %.0f ms over %d messages",
        figures["p50_ms"], figures["p99_ms"], messages,
    )  # fmt: skip
    return figures
