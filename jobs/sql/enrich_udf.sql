-- Enrichment by enrich_flight (jobs/udfs.py): a dictionary lookup per airport in the same
-- thread, so an enriched row leaves as soon as its flight is decoded and never waits for
-- the watermark. The dictionary is read from the compacted `${airports_topic}` topic at
-- start and kept current from it, so an airport update applies to the flights enriched
-- after the update is read. An unknown code gives null attributes, and great_circle_miles
-- (a Java function) counts it in the Flink metric unknownAirportCodes: the latitude of a
-- known airport is never null (schemas/airport.avsc), so a null latitude is a missed lookup.
CREATE VIEW flights_enriched_rows AS
SELECT
    f.event_id,
    f.departure,
    f.origin,
    f.destination,
    f.delay_minutes,
    f.distance_miles,
    a.origin_city,
    a.origin_state,
    a.origin_latitude,
    a.origin_longitude,
    a.destination_city,
    a.destination_state,
    a.destination_latitude,
    a.destination_longitude,
    great_circle_miles(
        a.origin_latitude, a.origin_longitude, a.destination_latitude, a.destination_longitude
    ) AS great_circle_miles,
    f.event_time,
    f.produced_at,
    f.is_synthetic,
    f.replay_round
FROM flights AS f,
    LATERAL TABLE(enrich_flight(f.origin, f.destination)) AS a(
        origin_city,
        origin_state,
        origin_latitude,
        origin_longitude,
        destination_city,
        destination_state,
        destination_latitude,
        destination_longitude
    );
