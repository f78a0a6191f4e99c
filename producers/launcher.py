"""Run the flight producer in one process or spread over several.

Each process has its own Kafka producer, its own share of the rows, of `--count` and of
`--rate`, so together they hold the requested totals. Worker processes are started with
the `spawn` method (librdkafka's threads do not survive a fork), wait for each other at a
barrier once their first batch is encoded, and send a `ProcessReport` to the parent every
progress interval. The parent merges the reports into one progress line and one summary.
"""

import logging
import multiprocessing
import os
import queue
import secrets
import signal
import threading
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from types import FrameType
from typing import Any

from core.errors import RtpathError
from producers.events import EventPlan
from producers.sender import FlightSender, WorkerPlan
from producers.settings import FlightProducerSettings
from producers.source import Share, check_input, file_tag
from producers.stats import Counters, LatencyHistogram, ProcessReport, ProgressLog, RunSummary
from producers.topics import max_message_bytes

logger = logging.getLogger(__name__)

# How long a worker waits at the start barrier for the others.
BARRIER_TIMEOUT_S = 300.0
# Extra time a worker gets to flush and report after the parent asked it to stop.
STOP_GRACE_S = 10.0


def plan_workers(settings: FlightProducerSettings, max_bytes: int) -> list[WorkerPlan]:
    """Split the run into one plan per process: rows k modulo P, count and rate shares."""
    path = settings.input_path
    check_input(path)
    tag = "" if settings.synthetic else file_tag(path)
    seed = settings.seed if settings.seed is not None else secrets.randbits(63)
    total = settings.processes
    plans = []
    for process in range(total):
        count = None
        if settings.count is not None:
            count = settings.count // total + (1 if process < settings.count % total else 0)
        events = EventPlan(
            path=path,
            batch_rows=settings.batch_rows,
            share=Share(process, total),
            file_tag=tag,
            loop=settings.loop,
            synthetic=settings.synthetic,
            seed=seed,
            max_message_bytes=max_bytes,
        )
        rate = settings.rate / total if settings.rate else None
        plans.append(WorkerPlan(process, events, count, rate, settings.duration_s))
    return plans


def run_flights(settings: FlightProducerSettings, spawn: bool | None = None) -> RunSummary:
    """Send the flights the settings describe; return the totals over all processes.

    `spawn` runs even a single process as a child, which gives it a clean peak RSS;
    by default only `processes > 1` starts children.
    """
    max_bytes = max_message_bytes(settings.bootstrap_servers, settings.topic)
    max_message_bytes(settings.bootstrap_servers, settings.dead_letter_topic)
    plans = plan_workers(settings, max_bytes)
    logger.info(
        "producing flights to %s on %s: input %s, %s, rate %s, count %s, duration %s, "
        "loop %s, processes %d, seed %d, linger.ms %d, batch.size %d, compression %s, "
        "max.message.bytes %d",
        settings.topic, settings.bootstrap_servers, settings.input_path,
        "synthetic" if settings.synthetic else "replay",
        f"{settings.rate:g} events/s" if settings.rate else "max",
        settings.count, settings.duration_s, settings.loop, settings.processes,
        plans[0].events.seed, settings.linger_ms, settings.batch_size, settings.compression,
        max_bytes,
    )  # fmt: skip
    progress = ProgressLog(settings.processes, settings.progress_interval_s, settings.rate)
    if settings.processes == 1 and not spawn:
        _run_here(settings, plans[0], progress)
    else:
        _run_children(settings, plans, progress)
    summary = progress.summary()
    logger.info("stopped: %s", summary.describe())
    return summary


def _run_here(settings: FlightProducerSettings, plan: WorkerPlan, progress: ProgressLog) -> None:
    sender = FlightSender(settings, plan, progress.update)
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        sender.install_signal_handlers()
    try:
        sender.run()
    finally:
        if in_main_thread:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _worker_main(
    settings: FlightProducerSettings,
    plan: WorkerPlan,
    reports: "multiprocessing.Queue[ProcessReport]",
    barrier: Barrier,
    log_level: str,
) -> None:
    from core.logging import configure_logging

    configure_logging(log_level)
    sender = FlightSender(settings, plan, reports.put)
    sender.install_signal_handlers()

    def wait_for_others() -> None:
        try:
            barrier.wait(BARRIER_TIMEOUT_S)
        except threading.BrokenBarrierError:
            logger.warning("process %d: start barrier broken; starting alone", plan.process)

    try:
        sender.run(ready=wait_for_others)
    except RtpathError as exc:
        barrier.abort()
        logger.error("process %d: %s", plan.process, exc)
        reports.put(_failed_report(plan, str(exc), None))


def _failed_report(plan: WorkerPlan, error: str, last: ProcessReport | None) -> ProcessReport:
    """Close the account of a process that ended without a final report.

    Events it sent without a known outcome count as not flushed, so as lost.
    """
    if last is None:
        return ProcessReport(
            plan.process, Counters(), LatencyHistogram(), plan.rate, 0.0, final=True, error=error
        )
    counters = Counters(**vars(last.counters))
    counters.unflushed = counters.sent - counters.delivered - counters.failed
    return ProcessReport(
        plan.process, counters, last.latency, plan.rate, last.elapsed_s,
        final=True, peak_rss_bytes=last.peak_rss_bytes, error=error,
    )  # fmt: skip


def _run_children(
    settings: FlightProducerSettings, plans: list[WorkerPlan], progress: ProgressLog
) -> None:
    context = multiprocessing.get_context("spawn")
    reports: multiprocessing.Queue[ProcessReport] = context.Queue()
    barrier = context.Barrier(len(plans))
    workers = [
        context.Process(
            target=_worker_main,
            args=(settings, plan, reports, barrier, settings.log_level),
            name=f"rtpath-producer-{plan.process}",
        )
        for plan in plans
    ]
    for worker in workers:
        worker.start()

    def forward(signum: int, frame: FrameType | None) -> None:
        logger.info("stopping %d producer processes (signal %d)", len(workers), signum)
        for worker in workers:
            if worker.pid is not None and worker.exitcode is None:
                os.kill(worker.pid, signal.SIGTERM)

    restore = _install(forward)
    try:
        _collect(reports, workers, plans, progress)
    finally:
        restore()
        for worker in workers:
            worker.join(STOP_GRACE_S)
            if worker.exitcode is None:
                logger.error("producer process %s did not exit; killing it", worker.pid)
                worker.kill()
                worker.join()


def _collect(
    reports: "multiprocessing.Queue[ProcessReport]",
    workers: list[Any],
    plans: list[WorkerPlan],
    progress: ProgressLog,
) -> None:
    finished: set[int] = set()
    while len(finished) < len(workers):
        try:
            report = reports.get(timeout=0.5)
        except queue.Empty:
            for plan, worker in zip(plans, workers, strict=True):
                if worker.exitcode is not None and plan.process not in finished:
                    # Reports put just before exiting may still be in the pipe.
                    try:
                        report = reports.get(timeout=2.0)
                    except queue.Empty:
                        error = f"exited with code {worker.exitcode} without a final report"
                        logger.error("producer process %d %s", plan.process, error)
                        last = progress.latest.get(plan.process)
                        progress.update(_failed_report(plan, error, last))
                        finished.add(plan.process)
                        continue
                    progress.update(report)
                    if report.final:
                        finished.add(report.process)
            continue
        progress.update(report)
        if report.final:
            finished.add(report.process)


def _install(handler: Callable[[int, FrameType | None], None]) -> Callable[[], None]:
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, handler)

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore
