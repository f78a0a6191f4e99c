package rtpath.flink;

import java.io.IOException;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;

/**
 * The runtime decoder of {@link FlightFormatFactory}. Counts the records it decodes in the metric
 * {@code flightRecords} and the invalid ones in {@code invalidFlightRecords}.
 */
final class FlightDeserializationSchema implements DeserializationSchema<RowData> {

    private static final long serialVersionUID = 1L;

    private final TypeInformation<RowData> producedType;
    private transient FlightDecoder decoder;
    private transient Counter records;
    private transient Counter invalidRecords;

    FlightDeserializationSchema(TypeInformation<RowData> producedType) {
        this.producedType = producedType;
    }

    @Override
    public void open(InitializationContext context) throws Exception {
        FlightDecoder.checkSchema();
        decoder = new FlightDecoder();
        records = context.getMetricGroup().counter("flightRecords");
        invalidRecords = context.getMetricGroup().counter("invalidFlightRecords");
    }

    @Override
    public RowData deserialize(byte[] message) throws IOException {
        GenericRowData row = decoder.decode(message);
        records.inc();
        if (!row.isNullAt(10)) {
            invalidRecords.inc();
        }
        return row;
    }

    @Override
    public boolean isEndOfStream(RowData nextElement) {
        return false;
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return producedType;
    }
}
