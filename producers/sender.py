"""The send loop of one producer process: open-loop rate control and delivery accounting.

Each event has an intended send time on a fixed schedule, `start + n / rate`, and the
loop sends every event that is due. Delivery latency is the arrival time of the delivery
report minus the intended time. So a stall of the producer, the client or the broker
shows up as latency instead of a lower sending rate. Without a rate the loop sends as fast
as it can and the intended time is the time of the send.

Events due together are sent as a group of at most `GROUP_MAX` events. The group shares
one wall-clock stamp (`event_time`, `produced_at`) taken just before its first send, and
one delivery callback that measures from the intended time of the group's first event.
After each group the loop calls `poll(0)` to serve delivery reports. This keeps Python
work per event to one concatenation and one `produce()` call. The cost is that later
events of a group report a latency up to the group's schedule span too high (63 events
at 10,000 events/s: 6.3 ms), never too low. A group has more than one event only when
the loop is behind its schedule or runs without a rate.
"""

import functools
import itertools
import logging
import resource
import signal
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import numpy as np
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from producers import avro
from producers.events import EncodedBatch, EventPlan, encoded_batches
from producers.rows import Rejection
from producers.settings import FlightProducerSettings, client_config
from producers.stats import Counters, LatencyHistogram, ProcessReport
from producers.topics import ProducerError

logger = logging.getLogger(__name__)

GROUP_MAX = 64
# Maximum single wait in the loop, so that stop requests and progress lines stay prompt.
MAX_WAIT_S = 0.1
# Errors of failed deliveries logged per process; the rest are only counted.
MAX_LOGGED_ERRORS = 10


@dataclass(frozen=True)
class WorkerPlan:
    """The share of a run that one producer process sends."""

    process: int
    events: EventPlan
    count: int | None
    rate: float | None
    duration_s: float | None


@dataclass
class _Stop:
    requested: bool = False
    signals: list[int] = field(default_factory=list)

    def request(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        self.signals.append(signum)


class FlightSender:
    """Sends the events of one `WorkerPlan` through its own Kafka producer."""

    def __init__(
        self,
        settings: FlightProducerSettings,
        plan: WorkerPlan,
        report: Callable[[ProcessReport], None],
    ) -> None:
        self.settings = settings
        self.plan = plan
        self.report = report
        self.stop = _Stop()
        batch_bytes = min(settings.batch_size, plan.events.max_message_bytes)
        self.producer = Producer(client_config(settings, **{"batch.size": batch_bytes}))
        self.counters = Counters()
        self.latencies = array("q")
        self.histogram = LatencyHistogram()
        self.started_ns = time.monotonic_ns()
        self.next_report_ns = 0
        self.errors_logged = 0

    # -- delivery reports ----------------------------------------------------------------

    def _on_delivery(self, intended_ns: int, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.counters.delivered += 1
            self.latencies.append(time.monotonic_ns() - intended_ns)
        else:
            self.counters.failed += 1
            self._log_error("event delivery to %s failed: %s", message.topic(), error)

    def _on_dead_letter(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.counters.dead_lettered += 1
        else:
            self.counters.dead_letter_failed += 1
            self._log_error("dead-letter delivery to %s failed: %s", message.topic(), error)

    def _log_error(self, text: str, *args: Any) -> None:
        self.errors_logged += 1
        if self.errors_logged <= MAX_LOGGED_ERRORS:
            logger.error("process %d: " + text, self.plan.process, *args)
        if self.errors_logged == MAX_LOGGED_ERRORS:
            logger.error("process %d: further delivery errors are only counted", self.plan.process)

    # -- sending -------------------------------------------------------------------------

    def run(self, ready: Callable[[], None] | None = None) -> ProcessReport:
        """Send until the plan is done or a stop is requested; flush and return the totals.

        The schedule starts once the first batch is encoded and `ready` has returned, so
        reading the file and building the synthetic sampler are not counted as latency.
        """
        batches = encoded_batches(self.plan.events, self.plan.process)
        error: str | None = None
        try:
            first = next(batches, None)
            if ready is not None:
                ready()
            if first is not None:
                self._send_all(itertools.chain([first], batches))
        except ProducerError as exc:
            error = str(exc)
            logger.error("process %d: %s", self.plan.process, exc)
        finally:
            unflushed = self.producer.flush(self.settings.flush_timeout_s)
        self.counters.unflushed = unflushed
        if unflushed:
            logger.error(
                "process %d: %d events and dead-letter records were still queued after "
                "%.0f s of flushing and count as lost",
                self.plan.process, unflushed, self.settings.flush_timeout_s,
            )  # fmt: skip
        final = self._make_report(final=True)
        final.error = error
        self.report(final)
        return final

    def install_signal_handlers(self) -> None:
        """Stop cleanly on SIGINT and SIGTERM: finish the group, flush, report."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.stop.request)

    def _send_all(self, batches: Iterator[EncodedBatch]) -> None:
        plan = self.plan
        rate = plan.rate
        period_ns = 1e9 / rate if rate else 0.0
        quota = plan.count
        if quota == 0:
            return
        interval_ns = int(self.settings.progress_interval_s * 1e9)
        start_ns = self.started_ns = time.monotonic_ns()
        deadline_ns = start_ns + int(plan.duration_s * 1e9) if plan.duration_s else None
        self.next_report_ns = start_ns + interval_ns
        monotonic_ns, time_ns, varint = time.monotonic_ns, time.time_ns, avro.zigzag_varint
        poll = self.producer.poll
        scheduled = 0

        for batch in batches:
            self._dead_letter(batch.rejections, batch.replay_round)
            values, keys, tail = batch.values, batch.keys, batch.tail
            position, size = 0, len(values)
            while position < size:
                now = monotonic_ns()
                if self.stop.requested or (deadline_ns is not None and now >= deadline_ns):
                    return
                if now >= self.next_report_ns:
                    self.report(self._make_report(final=False))
                    self.next_report_ns = now + interval_ns
                if rate:
                    intended_ns = start_ns + int(scheduled * period_ns)
                    if intended_ns > now:
                        poll(min((intended_ns - now) / 1e9, MAX_WAIT_S))
                        continue
                    due = int((now - start_ns) / period_ns) + 1 - scheduled
                else:
                    intended_ns, due = now, GROUP_MAX
                group = min(due, GROUP_MAX, size - position)
                if quota is not None:
                    group = min(group, quota - scheduled)
                stamp_ns = time_ns()
                suffix = varint(stamp_ns // 1_000_000) + varint(stamp_ns // 1_000) + tail
                callback = functools.partial(self._on_delivery, intended_ns)
                self._produce_group(values, keys, position, position + group, suffix, callback)
                poll(0)
                position += group
                scheduled += group
                if quota is not None and scheduled >= quota:
                    return

    def _produce_group(
        self,
        values: list[bytes],
        keys: list[bytes],
        first: int,
        end: int,
        suffix: bytes,
        callback: Callable[[KafkaError | None, Message], None],
    ) -> None:
        produce, topic = self.producer.produce, self.settings.topic
        index = first
        full_since: float | None = None
        while index < end:
            resume = index
            try:
                # After a failed produce(), `index` is the event to retry or skip.
                for index in range(resume, end):
                    produce(topic, values[index] + suffix, keys[index], on_delivery=callback)
                index = end
            except BufferError:
                full_since = self._wait_for_room(full_since)
            except KafkaException as exc:
                self.counters.failed += 1
                self._log_error("event could not be queued for %s: %s", topic, exc)
                index += 1
        self.counters.sent += end - first

    def _wait_for_room(self, full_since: float | None) -> float:
        """Serve delivery reports while the local queue is full, up to the configured bound."""
        now = time.monotonic()
        full_since = full_since or now
        if now - full_since > self.settings.queue_full_timeout_s:
            raise ProducerError(
                f"the local producer queue stayed full for "
                f"{self.settings.queue_full_timeout_s:g} s: Kafka at "
                f"{self.settings.bootstrap_servers} does not take events; check that "
                "the broker runs, or raise --queue-full-timeout"
            )
        self.producer.poll(MAX_WAIT_S)
        return full_since

    def _dead_letter(self, rejections: list[Rejection], replay_round: int) -> None:
        if not rejections:
            return
        topic = self.settings.dead_letter_topic
        source = str(self.plan.events.path)
        for rejection in rejections:
            headers: list[tuple[str, str | bytes | None]] = [
                ("reason", rejection.reason.label.encode()),
                ("error", rejection.error.encode()),
                ("source_row", str(rejection.row).encode()),
                ("source_file", source.encode()),
                ("replay_round", str(replay_round).encode()),
            ]
            full_since: float | None = None
            while True:
                try:
                    self.producer.produce(
                        topic, rejection.payload, headers=headers, on_delivery=self._on_dead_letter
                    )
                    break
                except BufferError:
                    full_since = self._wait_for_room(full_since)
        self.counters.rejected += len(rejections)
        logger.debug(
            "process %d: %d rows rejected to %s", self.plan.process, len(rejections), topic
        )

    def _make_report(self, final: bool) -> ProcessReport:
        if self.latencies:
            self.histogram.add(np.frombuffer(self.latencies, dtype=np.int64))
            del self.latencies[:]
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return ProcessReport(
            process=self.plan.process,
            counters=Counters(**vars(self.counters)),
            latency=LatencyHistogram(self.histogram.counts, self.histogram.max_ns),
            target_rate=self.plan.rate,
            elapsed_s=(time.monotonic_ns() - self.started_ns) / 1e9,
            final=final,
            peak_rss_bytes=peak_rss,
        )
