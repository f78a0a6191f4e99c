"""Encode flight events as schemaless Avro binary, a whole Arrow batch at a time.

The output is byte-identical to `fastavro.schemaless_writer` with `schemas/flight.avsc`,
which the unit tests check. It builds no Python dict per row. Instead numpy encodes the
integers of all rows at once as zigzag varints, and Arrow's `binary_join_element_wise`
concatenates the fields row by row in C++.

An event is split in two parts. The prefix holds the fields known when the batch is read
(event_id up to distance_miles). The suffix holds `event_time`, `produced_at`,
`is_synthetic` and `replay_round`; it is the same for every event sent in one group, so the
send loop encodes it once per group and appends it to each prefix.
"""

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

# Maximum length of the zigzag varint of a 64-bit integer: ceil(64 / 7) bytes.
MAX_VARINT_BYTES = 10
# Maximum length of a suffix: two longs, one boolean and one int.
MAX_SUFFIX_BYTES = 2 * MAX_VARINT_BYTES + 1 + 5

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def zigzag_varint(value: int) -> bytes:
    """Encode one Avro int or long: zigzag, then little-endian base-128 varint."""
    zigzag = (value << 1) ^ (value >> 63)
    out = bytearray()
    while zigzag > 0x7F:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)


def encode_suffix(
    event_time_ms: int, produced_at_us: int, is_synthetic: bool, replay_round: int
) -> bytes:
    """Encode the fields stamped at send time plus the two constant fields that end a record."""
    return b"".join((
        zigzag_varint(event_time_ms),
        zigzag_varint(produced_at_us),
        b"\x01" if is_synthetic else b"\x00",
        zigzag_varint(replay_round),
    ))  # fmt: skip


def suffix_tail(is_synthetic: bool, replay_round: int) -> bytes:
    """Encode the last two fields, which stay the same for a whole batch."""
    return (b"\x01" if is_synthetic else b"\x00") + zigzag_varint(replay_round)


def varint_matrix(values: Int64Array) -> tuple[npt.NDArray[np.uint8], Int64Array]:
    """Zigzag-varint encode each value; return an (n, width) byte matrix and each row's length.

    Row i contains the encoding of values[i] in its first lengths[i] bytes, then padding.
    """
    zigzag = ((values << 1) ^ (values >> 63)).view(np.uint64)
    width = 1
    while width < MAX_VARINT_BYTES and bool(np.any(zigzag >> np.uint64(7 * width))):
        width += 1
    matrix = np.empty((len(values), width), dtype=np.uint8)
    lengths = np.ones(len(values), dtype=np.int64)
    for position in range(width):
        group = (zigzag >> np.uint64(7 * position)) & np.uint64(0x7F)
        if position + 1 < width:
            more = (zigzag >> np.uint64(7 * (position + 1))) != 0
            lengths += more
            group |= more.astype(np.uint64) << np.uint64(7)
        matrix[:, position] = group
    return matrix, lengths


def binary_from_matrix(matrix: npt.NDArray[np.uint8], lengths: Int64Array) -> pa.BinaryArray:
    """Build a binary array whose element i is the first lengths[i] bytes of matrix row i."""
    keep = np.arange(matrix.shape[1]) < lengths[:, None]
    data = matrix[keep]
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(
        pa.binary(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def encode_longs(values: Int64Array) -> pa.BinaryArray:
    """Encode Avro int or long values, one binary element per value."""
    return binary_from_matrix(*varint_matrix(values))


def encode_nullable_ints(values: Int64Array, valid: BoolArray) -> pa.BinaryArray:
    """Encode the union ["null", "int"]: branch index 0 alone, or index 1 and the value."""
    matrix, lengths = varint_matrix(np.where(valid, values, 0))
    branch = np.where(valid, 2, 0).astype(np.uint8)  # zigzag(1) = 2, zigzag(0) = 0
    matrix = np.concatenate([branch[:, None], matrix], axis=1)
    lengths = np.where(valid, lengths + 1, 1)
    return binary_from_matrix(matrix, lengths)


def encode_strings(values: pa.Array) -> list[pa.Array]:
    """Encode Avro strings: the UTF-8 byte length as a long, then the bytes."""
    utf8 = values.cast(pa.binary())
    lengths = pc.binary_length(utf8).to_numpy(zero_copy_only=False).astype(np.int64)
    return [encode_longs(lengths), utf8]


def encode_prefixes(
    event_ids: pa.Array,
    departure_ms: Int64Array,
    origin: pa.Array,
    destination: pa.Array,
    delay: Int64Array,
    delay_valid: BoolArray,
    distance: Int64Array,
) -> pa.BinaryArray:
    """Encode the fields from event_id to distance_miles of every row; no input may be null."""
    parts = [
        *encode_strings(event_ids),
        encode_longs(departure_ms),
        *encode_strings(origin),
        *encode_strings(destination),
        encode_nullable_ints(delay, delay_valid),
        encode_longs(distance),
    ]
    joined: pa.BinaryArray = pc.binary_join_element_wise(*parts, b"")
    return joined
