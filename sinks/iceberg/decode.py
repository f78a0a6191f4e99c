"""Decode JSON Kafka messages into Arrow tables in an Iceberg table's own Arrow schema.

A batch is decoded in one call of `pyarrow.json.read_json` over the messages joined by
newlines, with an explicit schema, and converted column by column: epoch integers become
microsecond UTC timestamps and every column gets the exact type and nullability of the
table, so an append never fails on type drift. A batch that fails is split in halves until
the bad messages are isolated; those are returned as rejects with the reader's error.
"""

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from sinks.iceberg.tables import KAFKA_OFFSET, KAFKA_PARTITION, MICROS_PER_UNIT, TableDefinition

logger = logging.getLogger(__name__)


class MessageError(ValueError):
    """A message, or a batch holding it, is not a valid row of the table."""


@dataclass(frozen=True)
class Reject:
    """A message that cannot become a row: its position in the batch and the reason."""

    index: int
    error: str


class BatchDecoder:
    """Turn the JSON values of Kafka messages into rows of one Iceberg table."""

    def __init__(self, spec: TableDefinition, target: pa.Schema) -> None:
        """`target` is the Arrow schema of the Iceberg table, `Table.schema().as_arrow()`."""
        self.spec = spec
        self.target = target
        self.read_schema = spec.json_read_schema()
        self.parse_options = pa_json.ParseOptions(
            explicit_schema=self.read_schema, unexpected_field_behavior="ignore"
        )
        self.required = [f.name for f in spec.schema.fields if f.required]

    def decode(
        self, values: Sequence[bytes], partitions: Sequence[int], offsets: Sequence[int]
    ) -> tuple[pa.Table, list[Reject]]:
        """Return the rows decoded from `values` and the messages rejected.

        `partitions` and `offsets` are the Kafka coordinates of each message; they fill the
        `kafka_partition` and `kafka_offset` columns of its row.
        """
        rejects: list[Reject] = []
        pieces: list[pa.Table] = []
        self._decode_range(values, 0, len(values), pieces, rejects)
        if rejects:
            rejected = {r.index for r in rejects}
            kept = [i for i in range(len(values)) if i not in rejected]
            partitions = [partitions[i] for i in kept]
            offsets = [offsets[i] for i in kept]
        columns = pa.concat_tables(pieces) if pieces else None
        return self._with_kafka_columns(columns, partitions, offsets), rejects

    def _decode_range(
        self,
        values: Sequence[bytes],
        start: int,
        stop: int,
        pieces: list[pa.Table],
        rejects: list[Reject],
    ) -> None:
        if start == stop:
            return
        try:
            pieces.append(self._decode_json(values[start:stop]))
            return
        except MessageError as exc:
            if stop - start == 1:
                rejects.append(Reject(start, str(exc)))
                return
        middle = (start + stop) // 2
        self._decode_range(values, start, middle, pieces, rejects)
        self._decode_range(values, middle, stop, pieces, rejects)

    def _decode_json(self, values: Sequence[bytes]) -> pa.Table:
        """Decode `values` as one row each; raise `MessageError` when any is not a valid row."""
        try:
            joined = io.BytesIO(b"\n".join(values))
            raw = pa_json.read_json(joined, parse_options=self.parse_options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise MessageError(f"invalid JSON row: {exc}") from exc
        if raw.num_rows != len(values):
            # An empty message, or one holding several objects or line breaks, shifts rows.
            raise MessageError(
                f"{len(values)} message(s) decoded into {raw.num_rows} row(s); each message "
                "must hold exactly one JSON object on one line"
            )
        for name in self.required:
            if name in raw.column_names and raw.column(name).null_count:
                raise MessageError(f"required field {name!r} is missing or null")
        return self._convert(raw)

    def _convert(self, raw: pa.Table) -> pa.Table:
        arrays = []
        for field in self.target:
            if field.name in (KAFKA_PARTITION, KAFKA_OFFSET):
                continue
            if field.name not in raw.column_names:
                # A column added to the table after this definition: rows do not carry it.
                arrays.append(pa.nulls(raw.num_rows, field.type))
                continue
            column = raw.column(field.name)
            unit = self.spec.epoch_units.get(field.name)
            try:
                if unit is not None and MICROS_PER_UNIT[unit] != 1:
                    column = pc.multiply_checked(column, MICROS_PER_UNIT[unit])
                arrays.append(column.cast(field.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise MessageError(f"field {field.name!r}: {exc}") from exc
        names = [f.name for f in self.target if f.name not in (KAFKA_PARTITION, KAFKA_OFFSET)]
        return pa.Table.from_arrays(arrays, names=names)

    def _with_kafka_columns(
        self,
        columns: pa.Table | None,
        partitions: Sequence[int],
        offsets: Sequence[int],
    ) -> pa.Table:
        arrays = []
        for field in self.target:
            if field.name == KAFKA_PARTITION:
                arrays.append(pa.array(partitions, field.type))
            elif field.name == KAFKA_OFFSET:
                arrays.append(pa.array(offsets, field.type))
            elif columns is None:
                arrays.append(pa.nulls(0, field.type))
            else:
                arrays.append(columns.column(field.name))
        return pa.Table.from_arrays(arrays, schema=self.target)
