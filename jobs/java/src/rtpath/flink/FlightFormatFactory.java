package rtpath.flink;

import java.util.Set;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DeserializationFormatFactory;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.LogicalType;

/**
 * The value format {@code rtpath-flight-avro}: Avro flight records decoded by {@link
 * FlightDecoder}, where an invalid record becomes a row with {@code error} set instead of failing
 * the job (Flink's own {@code avro} format has no option to skip a record it cannot decode).
 *
 * <p>The value columns of the table must be exactly {@link FlightDecoder#ROW_TYPE}. Registered
 * through META-INF/services/org.apache.flink.table.factories.Factory in the functions jar.
 */
public class FlightFormatFactory implements DeserializationFormatFactory {

    public static final String IDENTIFIER = "rtpath-flight-avro";

    @Override
    public DecodingFormat<DeserializationSchema<RowData>> createDecodingFormat(
            DynamicTableFactory.Context context, ReadableConfig formatOptions) {
        return new DecodingFormat<>() {
            @Override
            public DeserializationSchema<RowData> createRuntimeDecoder(
                    DynamicTableSource.Context sourceContext, DataType physicalDataType) {
                LogicalType expected = FlightDecoder.ROW_TYPE.getLogicalType().copy(true);
                LogicalType actual = physicalDataType.getLogicalType().copy(true);
                if (!actual.equals(expected)) {
                    throw new ValidationException(
                            "format "
                                    + IDENTIFIER
                                    + " needs the value columns "
                                    + expected.asSummaryString()
                                    + " but the table has "
                                    + actual.asSummaryString());
                }
                TypeInformation<RowData> producedType =
                        sourceContext.createTypeInformation(physicalDataType);
                return new FlightDeserializationSchema(producedType);
            }

            @Override
            public ChangelogMode getChangelogMode() {
                return ChangelogMode.insertOnly();
            }
        };
    }

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of();
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of();
    }
}
