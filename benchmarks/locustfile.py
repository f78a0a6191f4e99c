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
import logging
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gevent
import numpy as np
from confluent_kafka import KafkaError, Producer
from locust import HttpUser, User, between, events, task
from locust.env import Environment

from core.settings import load_settings
from producers import avro
from producers.events import encode_rows, synthetic_event_ids
from producers.synthetic import FlightSampler

logger = logging.getLogger(__name__)

BOOTSTRAP = os.environ.get("RTPATH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
TOPIC = os.environ.get("RTPATH_LOCUST_TOPIC", "flights")
EVENTS_PER_USER = float(os.environ.get("RTPATH_LOCUST_EVENTS_PER_USER", "1000"))
BATCH_ROWS = 2048
MAX_MESSAGE_BYTES = 1_000_000
# is_synthetic = true and replay_round = 0, the last two fields of every record sent here.
SYNTHETIC_TAIL = avro.suffix_tail(True, 0)

_user_numbers = itertools.count()
# Built once per Locust process before any user starts: reading the 3M-row file takes
# seconds, and doing it inside a user's task would block every greenlet of the process.
_sampler: FlightSampler | None = None


def _input_path() -> Path:
    given = os.environ.get("RTPATH_LOCUST_INPUT")
    if given:
        return Path(given)
    return load_settings().cache_path / "data" / "flights-3m.parquet"


def _load_sampler(environment: Environment, **kwargs: Any) -> None:
    global _sampler
    if KafkaProducerUser in environment.user_classes and _sampler is None:
        path = _input_path()
        logger.info("loading the flights of the Kafka users from %s before users start", path)
        _sampler = FlightSampler.from_file(path, BATCH_ROWS)
        # The load blocked the gevent loop, so its cached clock is seconds behind. Without an
        # update, the timers set next (--run-time among them) would fire that much too early.
        gevent.get_hub().loop.update_now()


events.init.add_listener(_load_sampler)  # type: ignore[no-untyped-call]


def _synthetic_batches(
    sampler: FlightSampler, seed: int, user: int
) -> Iterator[tuple[list[bytes], list[bytes]]]:
    """Yield values (without their send-time suffix) and keys of synthetic events, forever."""
    rng = np.random.default_rng([seed, user])
    for first in itertools.count(0, BATCH_ROWS):
        rows = sampler.sample(BATCH_ROWS, rng, first)
        values, keys, _ = encode_rows(
            rows, synthetic_event_ids(seed, user, rows.row), MAX_MESSAGE_BYTES
        )
        yield values, keys


class KafkaProducerUser(User):
    """Send synthetic flight events at EVENTS_PER_USER per second, open loop."""

    weight = 1

    def on_start(self) -> None:
        if _sampler is None:
            raise RuntimeError("the flight sampler was not loaded by the init event listener")
        self.batches = _synthetic_batches(_sampler, random.getrandbits(63), next(_user_numbers))
        self.pending = next(self.batches)
        self.producer = Producer({
            "bootstrap.servers": BOOTSTRAP, "acks": "all", "enable.idempotence": True,
            "linger.ms": 5, "partitioner": "murmur2_random",
        })  # fmt: skip
        self.interval_s = 1.0 / EVENTS_PER_USER
        # The schedule starts once the first batch is encoded, so setup is not latency.
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
        values, keys = self.pending
        for value, key in zip(values, keys, strict=True):
            delay = self.next_send - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # gevent-patched: yields to the other users
            now_ns = time.time_ns()
            payload = value + avro.zigzag_varint(now_ns // 1_000_000) + avro.zigzag_varint(
                now_ns // 1_000) + SYNTHETIC_TAIL  # fmt: skip
            callback = self._report(self.next_send, len(payload))
            self.producer.produce(TOPIC, payload, key, on_delivery=callback)
            self.producer.poll(0)
            self.next_send += self.interval_s
        self.pending = next(self.batches)


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
