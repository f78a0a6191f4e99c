package rtpath.flink;

import org.apache.flink.metrics.Counter;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * Computes the haversine distance in statute miles between the origin and the destination of an
 * enriched flight, and counts airport codes missing from the airport dimension.
 *
 * <p>The enrichment gives a null latitude exactly when it found no airport for a code, because
 * {@code latitude} cannot be null in schemas/airport.avsc. So each null latitude is one missed
 * lookup, counted in the metric {@code unknownAirportCodes} (origin and destination separately),
 * and the distance is then null.
 */
public class GreatCircleMiles extends ScalarFunction {

    /** Mean Earth radius (IUGG) in statute miles, the unit of the flights' distance_miles. */
    static final double EARTH_RADIUS_MILES = 3958.7613;

    private transient Counter unknownAirportCodes;

    @Override
    public void open(FunctionContext context) {
        unknownAirportCodes = context.getMetricGroup().counter("unknownAirportCodes");
    }

    public @DataTypeHint("DOUBLE") Double eval(
            Double originLatitude,
            Double originLongitude,
            Double destinationLatitude,
            Double destinationLongitude) {
        int unknown = (originLatitude == null ? 1 : 0) + (destinationLatitude == null ? 1 : 0);
        if (unknown > 0) {
            if (unknownAirportCodes != null) {
                unknownAirportCodes.inc(unknown);
            }
            return null;
        }
        if (originLongitude == null || destinationLongitude == null) {
            return null;
        }
        double phi1 = Math.toRadians(originLatitude);
        double phi2 = Math.toRadians(destinationLatitude);
        double sinHalfDeltaPhi = Math.sin((phi2 - phi1) / 2);
        double sinHalfDeltaLambda = Math.sin(Math.toRadians(destinationLongitude - originLongitude) / 2);
        double h =
                sinHalfDeltaPhi * sinHalfDeltaPhi
                        + Math.cos(phi1) * Math.cos(phi2) * sinHalfDeltaLambda * sinHalfDeltaLambda;
        return 2 * EARTH_RADIUS_MILES * Math.asin(Math.min(1.0, Math.sqrt(h)));
    }
}
