-- Enrichment by an event-time temporal join with the airports topic as a versioned table.
-- Kept to measure against enrich_udf.sql (`--enrichment temporal-join`): the join emits a
-- flight only once the watermark of both inputs passes the flight's rowtime, so every
-- enriched row waits at least the watermark delay (2 s) in the join.
CREATE TABLE airports (
    code STRING NOT NULL,
    name STRING NOT NULL,
    city STRING,
    state STRING,
    country STRING,
    latitude DOUBLE NOT NULL,
    longitude DOUBLE NOT NULL,
    updated_at BIGINT NOT NULL,
    version_time AS TO_TIMESTAMP_LTZ(updated_at, 3),
    WATERMARK FOR version_time AS version_time,
    PRIMARY KEY (code) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka',
    'topic' = '${airports_topic}',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-airports',
    'key.format' = 'raw',
    'value.format' = 'avro',
    'value.avro.timestamp_mapping.legacy' = 'false',
    'value.fields-include' = 'ALL'
);

CREATE VIEW flights_enriched_rows AS
SELECT
    f.event_id,
    f.departure,
    f.origin,
    f.destination,
    f.delay_minutes,
    f.distance_miles,
    o.city AS origin_city,
    o.state AS origin_state,
    o.latitude AS origin_latitude,
    o.longitude AS origin_longitude,
    d.city AS destination_city,
    d.state AS destination_state,
    d.latitude AS destination_latitude,
    d.longitude AS destination_longitude,
    -- Null when either airport is unknown, which the function counts (enrich_udf.sql).
    great_circle_miles(o.latitude, o.longitude, d.latitude, d.longitude) AS great_circle_miles,
    f.event_time,
    f.produced_at,
    f.is_synthetic,
    f.replay_round
FROM flights AS f
LEFT JOIN airports FOR SYSTEM_TIME AS OF f.rt AS o ON f.origin = o.code
LEFT JOIN airports FOR SYSTEM_TIME AS OF f.rt AS d ON f.destination = d.code;
