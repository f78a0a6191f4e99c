"""Write the end-to-end benchmark's results: JSON, a Markdown summary and two PNG plots."""

import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

RESULTS_JSON = "results.json"
SUMMARY_MD = "summary.md"
FRESHNESS_CDF_PNG = "freshness_cdf.png"
LATENCY_PNG = "latency_vs_rate.png"


def write_outputs(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write every output file into `out_dir` and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / RESULTS_JSON
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    summary_path = out_dir / SUMMARY_MD
    summary_path.write_text(format_summary(results))
    written = [results_path, summary_path]
    if results["steps"]:
        written.append(plot_freshness_cdf(results, out_dir / FRESHNESS_CDF_PNG))
        written.append(plot_latency_vs_rate(results, out_dir / LATENCY_PNG))
    logger.info("wrote %s", ", ".join(str(p) for p in written))
    return written


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def format_summary(results: dict[str, Any]) -> str:
    """Return the Markdown summary: settings, the Kafka floor, one row per step, verdicts."""
    target = results["target_ms"]
    settings = results["settings"]
    floor = results["kafka_end_to_end_latency"]
    machine = results["machine"]
    lines = [
        "# End-to-end benchmark",
        "",
        f"- Date: {results['started_at']}",
        f"- Command: `{results['command']}`",
        f"- Machine: {machine['cpus']} CPUs, {machine['processor']}, {machine['platform']}, "
        f"Python {machine['python']}",
        f"- Steps: warm-up {settings['warmup_s']:g} s, measured {settings['measure_s']:g} s; "
        f"a step stops the run when the producer sends under "
        f"{settings['min_rate_fraction']:.0%} of its rate, or ClickHouse trails the flights "
        f"topic (or the job's lag grows) by over {settings['lag_limit_s']:g} s of events.",
        f"- Kafka EndToEndLatency (broker-only floor, {floor['messages']:,} messages of "
        f"{floor['message_bytes']} bytes, acks=all): p50 {_ms(floor['p50_ms'])} ms, "
        f"p99 {_ms(floor['p99_ms'])} ms",
    ]

    preload = results.get("preload")
    if preload:
        lines.append(
            f"- Preload: {preload['events']:,} events sent in {preload['send_s']:g} s, in both "
            f"stores after {preload['until_stored_s']:g} s"
        )
    else:
        lines.append("- Preload: none")

    lines += [
        "",
        f"Latencies in ms. Pass means p99 under {target:g} ms.",
        "",
        "| offered events/s | sent events/s | freshness p50 / p95 / p99 / max (rows) "
        "| window lag p50 / p99 (windows) | query p50 / p99, ingest | query p50 / p99, idle "
        "| freshness | query | sustained |",
        "| ---: | ---: | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for step in results["steps"]:
        f, w, q, i = (step["freshness_ms"], step["window_lag_ms"], step["query_ms"],
                      step["idle_query_ms"])  # fmt: skip
        lines.append(
            f"| {step['rate']:,.0f} | {step['sent_events_per_second']:,.0f} "
            f"| {_ms(f['p50'])} / {_ms(f['p95'])} / {_ms(f['p99'])} / {_ms(f['max'])} "
            f"({f['count']:,}) | {_ms(w['p50'])} / {_ms(w['p99'])} ({w['count']:,}) "
            f"| {_ms(q['p50'])} / {_ms(q['p99'])} | {_ms(i['p50'])} / {_ms(i['p99'])} "
            f"| {_verdict(step['freshness_pass'])} | {_verdict(step['query_pass'])} "
            f"| {'yes' if step['sustained'] else 'no'} |"
        )

    lines.append("")
    for step in results["steps"]:
        if step["unsustained_reasons"]:
            lines.append(
                f"- {step['rate']:,.0f} events/s not sustained: "
                + "; ".join(step["unsustained_reasons"])
            )
    highest = results["highest_passing_rate"]
    lines.append(
        f"- Highest rate that passed both p99 targets: "
        f"{'none' if highest is None else f'{highest:,.0f} events/s'}"
    )
    totals = results["totals"]
    lines.append(
        f"- Totals: {totals['events_produced']:,} events in the flights topic, "
        f"{totals['rows_clickhouse']:,} rows in ClickHouse, {totals['rows_iceberg']:,} in Iceberg"
    )
    every_event_stored = (
        totals["rows_clickhouse"] == totals["events_produced"] == totals["rows_iceberg"]
    )
    lines.append(f"- Every event in both stores: {'yes' if every_event_stored else 'NO'}")
    return "\n".join(lines) + "\n"


def plot_freshness_cdf(results: dict[str, Any], path: Path) -> Path:
    """Plot the freshness CDF of each step, log-scaled in milliseconds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    for step in results["steps"]:
        cdf = step["freshness_cdf"]
        if cdf["values_ms"]:
            # A log axis cannot show 0 ms, so values are clamped to 0.1 ms.
            values = [max(value, 0.1) for value in cdf["values_ms"]]
            axes.plot(values, cdf["levels"], label=f"{step['rate']:,.0f} events/s")
    axes.axvline(results["target_ms"], color="grey", linestyle="--", label="target")
    axes.set_xscale("log")
    axes.set_xlabel("freshness (inserted_at - produced_at), ms")
    axes.set_ylabel("fraction of rows")
    axes.set_title("Freshness CDF per step")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def plot_latency_vs_rate(results: dict[str, Any], path: Path) -> Path:
    """Plot p99 freshness and p99 query latency (ingest running and idle) against rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = results["steps"]
    rates = [step["rate"] for step in steps]
    series = {
        "p99 freshness": [step["freshness_ms"]["p99"] for step in steps],
        "p99 query, ingest running": [step["query_ms"]["p99"] for step in steps],
        "p99 query, ingest stopped": [step["idle_query_ms"]["p99"] for step in steps],
    }
    figure, axes = plt.subplots(figsize=(8, 5))
    for label, values in series.items():
        points = [(r, v) for r, v in zip(rates, values, strict=True) if v is not None]
        if points:
            axes.plot(*zip(*points, strict=True), marker="o", label=label)
    axes.axhline(results["target_ms"], color="grey", linestyle="--", label="target")
    floor = results["kafka_end_to_end_latency"]["p99_ms"]
    # A log axis cannot show 0 ms, and the tool reports whole milliseconds.
    axes.axhline(max(floor, 0.1), color="black", linestyle=":", label="Kafka EndToEndLatency p99")
    axes.set_yscale("log")
    axes.set_xlabel("offered rate, events/s")
    axes.set_ylabel("latency, ms")
    axes.set_title("p99 latency against offered rate")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
