package rtpath.flink;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.DataType;

/**
 * Decodes Avro flight records (schemas/flight.avsc, binary encoding without a header) into rows
 * of {@link #ROW_TYPE}: the fields of the schema, then {@code error} and {@code value}.
 *
 * <p>A record that is not a valid flight (null, truncated, bytes after the record, a union index
 * other than 0 or 1, a negative length, a string that is not UTF-8) gives a row with {@code
 * error} set, {@code value} set to the record unchanged, and placeholder values (empty strings,
 * zeros, false) in the fields that cannot be null. A valid record gives null {@code error} and
 * {@code value}. Not thread-safe: it reuses one Avro decoder.
 */
final class FlightDecoder {

    /** The row this decoder produces. */
    static final DataType ROW_TYPE =
            DataTypes.ROW(
                    DataTypes.FIELD("event_id", DataTypes.STRING().notNull()),
                    DataTypes.FIELD("departure", DataTypes.TIMESTAMP(3).notNull()),
                    DataTypes.FIELD("origin", DataTypes.STRING().notNull()),
                    DataTypes.FIELD("destination", DataTypes.STRING().notNull()),
                    DataTypes.FIELD("delay_minutes", DataTypes.INT()),
                    DataTypes.FIELD("distance_miles", DataTypes.INT().notNull()),
                    DataTypes.FIELD("event_time", DataTypes.BIGINT().notNull()),
                    DataTypes.FIELD("produced_at", DataTypes.BIGINT().notNull()),
                    DataTypes.FIELD("is_synthetic", DataTypes.BOOLEAN().notNull()),
                    DataTypes.FIELD("replay_round", DataTypes.INT().notNull()),
                    DataTypes.FIELD("error", DataTypes.STRING()),
                    DataTypes.FIELD("value", DataTypes.BYTES()));

    /** The schema file packaged into the jar next to this class. */
    static final String SCHEMA_RESOURCE = "flight.avsc";

    /**
     * The fields this decoder reads, in order, as "name type" with the type in Avro JSON. The
     * packaged schema must have exactly these, so an edited schema fails the job at start instead
     * of sending every record to the dead letters.
     */
    static final List<String> EXPECTED_FIELDS =
            List.of(
                    "event_id \"string\"",
                    "departure {\"type\":\"long\",\"logicalType\":\"local-timestamp-millis\"}",
                    "origin \"string\"",
                    "destination \"string\"",
                    "delay_minutes [\"null\",\"int\"]",
                    "distance_miles \"int\"",
                    "event_time \"long\"",
                    "produced_at \"long\"",
                    "is_synthetic \"boolean\"",
                    "replay_round \"int\"");

    private static final int FIELDS = 12;
    private static final String INVALID = "invalid Avro flight record: ";
    private static final StringData EMPTY = StringData.fromString("");
    private static final TimestampData EPOCH = TimestampData.fromEpochMillis(0);

    private BinaryDecoder decoder;

    /** Decodes one record value; never throws for invalid input. */
    GenericRowData decode(byte[] value) {
        if (value == null) {
            return invalid(null, "record value is null");
        }
        decoder = DecoderFactory.get().binaryDecoder(value, decoder);
        try {
            GenericRowData row = new GenericRowData(FIELDS);
            row.setField(0, readString(value, "event_id"));
            // local-timestamp-millis: wall-clock milliseconds, which TimestampData reads as UTC.
            row.setField(1, TimestampData.fromEpochMillis(decoder.readLong()));
            row.setField(2, readString(value, "origin"));
            row.setField(3, readString(value, "destination"));
            int branch = decoder.readIndex();
            if (branch == 1) {
                row.setField(4, decoder.readInt());
            } else if (branch != 0) {
                throw new InvalidRecordException(
                        "union index " + branch + " of delay_minutes is not 0 (null) or 1 (int)");
            }
            row.setField(5, decoder.readInt());
            row.setField(6, decoder.readLong());
            row.setField(7, decoder.readLong());
            row.setField(8, decoder.readBoolean());
            row.setField(9, decoder.readInt());
            if (!decoder.isEnd()) {
                int trailing = decoder.inputStream().available();
                return invalid(value, INVALID + trailing + " bytes after the record");
            }
            return row;
        } catch (InvalidRecordException e) {
            return invalid(value, INVALID + e.getMessage());
        } catch (IOException | RuntimeException e) {
            // Every decoding failure becomes a dead letter instead of failing the job.
            return invalid(value, INVALID + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** Reads an Avro string: a zigzag varint length, then that many bytes of UTF-8. */
    private StringData readString(byte[] value, String field) throws IOException {
        long length = decoder.readLong();
        if (length < 0) {
            throw new InvalidRecordException("negative length " + length + " of " + field);
        }
        // Checked before allocating, because a corrupt length can be up to 2^63 - 1.
        if (length > value.length) {
            throw new InvalidRecordException(
                    "length " + length + " of " + field + " exceeds the record size " + value.length);
        }
        byte[] bytes = new byte[(int) length];
        decoder.readFixed(bytes);
        if (!Utf8.isValid(bytes)) {
            throw new InvalidRecordException(field + " is not valid UTF-8");
        }
        return StringData.fromBytes(bytes);
    }

    private static GenericRowData invalid(byte[] value, String error) {
        return GenericRowData.of(
                EMPTY, EPOCH, EMPTY, EMPTY, null, 0, 0L, 0L, false, 0, StringData.fromString(error),
                value);
    }

    /** Checks that the packaged flight.avsc has the fields this decoder reads. */
    static void checkSchema() throws IOException {
        Schema schema;
        try (InputStream stream = FlightDecoder.class.getResourceAsStream(SCHEMA_RESOURCE)) {
            if (stream == null) {
                throw new IllegalStateException(
                        SCHEMA_RESOURCE + " is missing from the jar of " + FlightDecoder.class.getName());
            }
            schema = new Schema.Parser().parse(stream);
        }
        List<String> actual =
                schema.getFields().stream().map(f -> f.name() + " " + f.schema().toString()).toList();
        if (!actual.equals(EXPECTED_FIELDS)) {
            throw new IllegalStateException(
                    "schemas/flight.avsc has the fields "
                            + actual
                            + " but FlightDecoder reads "
                            + EXPECTED_FIELDS
                            + "; change jobs/java/src/rtpath/flink/FlightDecoder.java with the schema");
        }
    }

    /** A record that breaks a rule the Avro decoder does not check itself. */
    static final class InvalidRecordException extends RuntimeException {
        InvalidRecordException(String message) {
            super(message);
        }
    }
}
