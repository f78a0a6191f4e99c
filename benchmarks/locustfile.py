"""Locust load for rtpath: a Kafka producer user and a dashboard user.

KafkaProducerUser sends synthetic flight events (sampled from the real file, labelled
synthetic) into the flights topic at a constant rate per user. Each event has an intended
send time on a fixed schedule, and its latency is counted from that time to its delivery
report, so a stall shows up as latency (open loop). Deliveries are reported to Locust under
the request type "kafka". DashboardUser runs the dashboards through the query API over HTTP,
weighted towards the queries a dashboard refreshes most.

Configuration comes from environment variables, because Locust owns the command line:
RTPATH_KAFKA_BOOTSTRAP (default 127.0.0.1:9092), RTPATH_LOCUST_TOPIC (default flights),
RTPATH_LOCUST_EVENTS_PER_USER (events/s per producer user, default 1000) and
RTPATH_LOCUST_INPUT (default the cached flights-3m.parquet). The dashboard host is
Locust's --host, the URL of the query API.
"""

import itertools
import os
import random
import time
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, Producer
from locust import HttpUser, User, between, events, task

from core.settings import load_settings
from producers import avro
from producers.events import EventPlan, encoded_batches
from producers.source import Share

BOOTSTRAP = os.environ.get("RTPATH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
TOPIC = os.environ.get("RTPATH_LOCUST_TOPIC", "flights")
EVENTS_PER_USER = float(os.environ.get("RTPATH_LOCUST_EVENTS_PER_USER", "1000"))
BATCH_ROWS = 2048
MAX_MESSAGE_BYTES = 1_000_000

_user_numbers = itertools.count()


def _input_path() -> Path:
    given = os.environ.get("RTPATH_LOCUST_INPUT")
    if given:
        return Path(given)
    return load_settings().cache_path / "data" / "flights-3m.parquet"


class KafkaProducerUser(User):
    """Send synthetic flight events at EVENTS_PER_USER per second, open loop."""

    weight = 1

    def on_start(self) -> None:
        self.number = next(_user_numbers)
        plan = EventPlan(
            path=_input_path(), batch_rows=BATCH_ROWS, share=Share(), file_tag="locust",
            loop=False, synthetic=True, seed=random.getrandbits(63),
            max_message_bytes=MAX_MESSAGE_BYTES,
        )  # fmt: skip
        self.batches = encoded_batches(plan, self.number)
        self.producer = Producer({
            "bootstrap.servers": BOOTSTRAP, "acks": "all", "enable.idempotence": True,
            "linger.ms": 5, "partitioner": "murmur2_random",
        })  # fmt: skip
        self.interval_s = 1.0 / EVENTS_PER_USER
        self.next_send = time.monotonic()

    def on_stop(self) -> None:
        self.producer.flush(30)

    def _report(self, intended: float, size: int) -> Any:
        def on_delivery(error: KafkaError | None, message: Any) -> None:
            events.request.fire(  # type: ignore[no-untyped-call]
                request_type="kafka",
                name=f"produce {TOPIC}",
                response_time=(time.monotonic() - intended) * 1000,
                response_length=size,
                exception=None if error is None else RuntimeError(str(error)),
                context={},
            )

        return on_delivery

    @task
    def send_batch(self) -> None:
        batch = next(self.batches)
        tail = batch.tail
        for value, key in zip(batch.values, batch.keys, strict=True):
            delay = self.next_send - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # gevent-patched: yields to the other users
            now_ns = time.time_ns()
            payload = value + avro.zigzag_varint(now_ns // 1_000_000) + avro.zigzag_varint(
                now_ns // 1_000) + tail  # fmt: skip
            callback = self._report(self.next_send, len(payload))
            self.producer.produce(TOPIC, payload, key, on_delivery=callback)
            self.producer.poll(0)
            self.next_send += self.interval_s


class DashboardUser(HttpUser):
    """Refresh the dashboards through the query API, the freshest panels most often."""

    weight = 1
    wait_time = between(0.1, 0.3)

    def _dashboard(self, name: str, **params: str) -> None:
        with self.client.get(f"/dashboards/{name}", params=params, name=f"/dashboards/{name}",
                             catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")

    @task(4)
    def freshness(self) -> None:
        self._dashboard("freshness")

    @task(3)
    def delayed_origins(self) -> None:
        self._dashboard("delayed_origins")

    @task(2)
    def state_delays(self) -> None:
        self._dashboard("state_delays")

    @task(1)
    def airport_delay_trend(self) -> None:
        self._dashboard("airport_delay_trend", airport=random.choice(["ORD", "DFW", "ATL"]))

    @task(1)
    def busy_routes(self) -> None:
        self._dashboard("busy_routes")
