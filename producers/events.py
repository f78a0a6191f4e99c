"""Turn the input into batches of encoded events, ready for the send loop.

Event ids are built so that no two events of a run share one, across replay rounds,
producer processes and modes:

- replayed rows: `<file tag>-<replay round>-<source row>`, for example `1a2b3c4d-0-17`.
  The file tag is 8 hex digits of the file's BLAKE2b digest, so the same row of the same
  file in the same round gets the same id on every run, and processes own disjoint rows.
- synthetic rows: `s<seed>-<process index>-<sequence>`, where the sequence counts the
  events of one process from 0. Ids are unique within a run, and across runs whose seeds
  differ (the seed is a random 63-bit number unless set). Hex file tags never start with `s`.
"""

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from producers import avro
from producers.rows import FlightRows, Int64Array, Reason, Rejection, row_payload
from producers.source import Share, read_batches
from producers.synthetic import FlightSampler

logger = logging.getLogger(__name__)

# Bytes a record adds to a Kafka record batch beyond its key and value, at most: the
# 61-byte batch header plus 32 bytes of record fields (lengths, attributes, deltas).
RECORD_OVERHEAD_BYTES = 93


@dataclass(frozen=True)
class EventPlan:
    """Input, share and encoding limits of the events one producer process builds."""

    path: Path
    batch_rows: int
    share: Share
    file_tag: str
    loop: bool
    synthetic: bool
    seed: int
    max_message_bytes: int


@dataclass(frozen=True)
class EncodedBatch:
    """Encoded events without their send-time suffix, and the rows rejected on the way."""

    values: list[bytes]
    keys: list[bytes]
    replay_round: int
    is_synthetic: bool
    rejections: list[Rejection]

    @property
    def tail(self) -> bytes:
        return avro.suffix_tail(self.is_synthetic, self.replay_round)


def replay_event_ids(tag: str, replay_round: int, rows: Int64Array) -> pa.Array:
    prefix = pa.scalar(f"{tag}-{replay_round}-")
    ids: pa.Array = pc.binary_join_element_wise(prefix, pa.array(rows).cast(pa.string()), "")
    return ids


def synthetic_event_ids(seed: int, process: int, sequences: Int64Array) -> pa.Array:
    prefix = pa.scalar(f"s{seed}-{process}-")
    ids: pa.Array = pc.binary_join_element_wise(prefix, pa.array(sequences).cast(pa.string()), "")
    return ids


def encode_rows(
    rows: FlightRows, event_ids: pa.Array, max_message_bytes: int
) -> tuple[list[bytes], list[bytes], list[Rejection]]:
    """Encode `rows`; return values and keys of those that fit, and rejections for the rest."""
    prefixes = avro.encode_prefixes(
        event_ids, rows.departure_ms, rows.origin, rows.destination,
        rows.delay, rows.delay_valid, rows.distance,
    )  # fmt: skip
    keys = rows.origin.cast(pa.binary())
    sizes = (
        pc.binary_length(prefixes).to_numpy(zero_copy_only=False)
        + pc.binary_length(keys).to_numpy(zero_copy_only=False)
        + avro.MAX_SUFFIX_BYTES
        + RECORD_OVERHEAD_BYTES
    )
    too_large = sizes > max_message_bytes
    rejections: list[Rejection] = []
    if too_large.any():
        for i in np.flatnonzero(too_large):
            rejections.append(
                Rejection(
                    row=int(rows.row[i]),
                    reason=Reason.TOO_LARGE,
                    error=(
                        f"record of up to {int(sizes[i])} bytes is over the topic's "
                        f"max.message.bytes of {max_message_bytes}"
                    ),
                    payload=row_payload(
                        {
                            "origin": rows.origin[int(i)].as_py(),
                            "destination": rows.destination[int(i)].as_py(),
                        }
                    ),
                )
            )
        keep = pa.array(~too_large)
        prefixes, keys = prefixes.filter(keep), keys.filter(keep)
    values: list[bytes] = prefixes.to_numpy(zero_copy_only=False).tolist()
    key_list: list[bytes] = _shared_keys(keys)
    return values, key_list, rejections


def _shared_keys(keys: pa.Array) -> list[bytes]:
    """Return the keys as bytes, one object per distinct key (there are few origins)."""
    encoded = pc.dictionary_encode(keys)
    distinct = np.array(encoded.dictionary.to_pylist(), dtype=object)
    shared: list[bytes] = distinct[encoded.indices.to_numpy(zero_copy_only=False)].tolist()
    return shared


def encoded_batches(plan: EventPlan, process: int) -> Iterator[EncodedBatch]:
    """Yield the encoded events of one producer process until the input ends.

    Replay reads the file once, or round after round with `loop`; synthetic mode never ends.
    """
    if plan.synthetic:
        yield from _synthetic_batches(plan, process)
        return
    for replay_round in itertools.count():
        events = 0
        for batch in read_batches(plan.path, plan.batch_rows, plan.share):
            ids = replay_event_ids(plan.file_tag, replay_round, batch.rows.row)
            values, keys, too_large = encode_rows(batch.rows, ids, plan.max_message_bytes)
            rejections = sorted(batch.rejections + too_large, key=lambda r: r.row)
            events += len(values)
            yield EncodedBatch(values, keys, replay_round, False, rejections)
        if not plan.loop:
            return
        if events == 0:
            logger.warning(
                "process %d: a whole pass over %s gave no valid event; stopping the loop",
                process, plan.path,
            )  # fmt: skip
            return


def _synthetic_batches(plan: EventPlan, process: int) -> Iterator[EncodedBatch]:
    sampler = FlightSampler.from_file(plan.path, plan.batch_rows)
    rng = np.random.default_rng([plan.seed, process])
    for first in itertools.count(0, plan.batch_rows):
        rows = sampler.sample(plan.batch_rows, rng, first)
        ids = synthetic_event_ids(plan.seed, process, rows.row)
        values, keys, too_large = encode_rows(rows, ids, plan.max_message_bytes)
        yield EncodedBatch(values, keys, 0, True, too_large)
