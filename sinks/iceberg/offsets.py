"""Kafka offsets kept in the summary of Iceberg snapshots, the sink's only resume point.

Every commit of the sink writes `rtpath.kafka-offsets` into its snapshot summary: a JSON
object mapping each topic to `{partition: next offset to read}`. The value is cumulative: a
commit merges its offsets into those of the snapshot it is based on, so the newest snapshot
carrying the property holds the position of every partition ever written, even after older
snapshots have been expired.
"""

import json
import logging

from pyiceberg.table import Table
from pyiceberg.table.snapshots import ancestors_of

logger = logging.getLogger(__name__)

OFFSETS_PROPERTY = "rtpath.kafka-offsets"

# topic -> partition -> offset of the next message to read
TopicOffsets = dict[str, dict[int, int]]


def stored_offsets(table: Table) -> TopicOffsets:
    """Return the offsets stored by the newest snapshot of `table` that carries them.

    Snapshots written by other tools (a compaction by Spark, for example) carry no offsets;
    the walk goes back through their ancestors. A table without any returns `{}`.
    """
    for snapshot in ancestors_of(table.current_snapshot(), table.metadata):
        if snapshot.summary is None:
            continue
        value = snapshot.summary[OFFSETS_PROPERTY]
        if value is not None:
            return parse_offsets(value)
    return {}


def parse_offsets(value: str) -> TopicOffsets:
    raw = json.loads(value)
    return {topic: {int(p): int(o) for p, o in parts.items()} for topic, parts in raw.items()}


def format_offsets(offsets: TopicOffsets) -> str:
    ordered = {
        topic: {str(p): offsets[topic][p] for p in sorted(offsets[topic])}
        for topic in sorted(offsets)
    }
    return json.dumps(ordered, separators=(",", ":"))


def merge_offsets(base: TopicOffsets, update: TopicOffsets) -> TopicOffsets:
    """Return `base` with each partition of `update` raised to the larger of the two offsets.

    Taking the maximum keeps a writer that lags behind (a zombie after a rebalance) from
    moving a partition back.
    """
    merged = {topic: dict(parts) for topic, parts in base.items()}
    for topic, parts in update.items():
        target = merged.setdefault(topic, {})
        for partition, offset in parts.items():
            target[partition] = max(offset, target.get(partition, offset))
    return merged
