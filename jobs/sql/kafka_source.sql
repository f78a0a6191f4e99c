-- The `flights` topic, read as raw bytes and decoded by decode_flight (jobs/udfs.py).
--
-- Flink's `avro` format fails the job on the first record it cannot decode and has no
-- option to skip it. Decoding in Python instead turns such a record into a row with only
-- `error` set, which goes to the dead-letter topic below. The rowtime comes from the
-- decoded event_time, so the watermark is assigned after decoding, on the merged stream
-- of the partitions that a source subtask reads.
CREATE TABLE flights_raw (
    `key` BYTES,
    `value` BYTES,
    `partition` INT METADATA VIRTUAL,
    `offset` BIGINT METADATA VIRTUAL,
    flight AS decode_flight(`value`),
    rt AS TO_TIMESTAMP_LTZ(decode_flight(`value`).event_time, 3),
    -- Events reach the broker within 2 s of their event_time, out of order by less.
    WATERMARK FOR rt AS rt - INTERVAL '2' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = '${flights_topic}',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'group-offsets',
    'properties.auto.offset.reset' = 'earliest',
    'key.format' = 'raw',
    'key.fields' = 'key',
    'value.format' = 'raw',
    'value.fields-include' = 'EXCEPT_KEY'
);

-- Every record with its decoded flight. The decoded flights and the dead letters both read
-- this view, so the planner decodes each record once for both.
CREATE VIEW flights_decoded AS
SELECT `key`, `value`, `partition`, `offset`, flight, rt
FROM flights_raw;

-- Decoded flights. The columns up to replay_round are those of schemas/flight.avsc.
CREATE VIEW flights AS
SELECT
    flight.event_id AS event_id,
    -- The local wall-clock time as epoch milliseconds, read back in UTC (settings.sql).
    -- TO_TIMESTAMP_LTZ has a nullable type; COALESCE makes the column NOT NULL, as in
    -- schemas/flight.avsc, and never applies because flight.departure is never null.
    COALESCE(
        CAST(TO_TIMESTAMP_LTZ(flight.departure, 3) AS TIMESTAMP(3)),
        TIMESTAMP '1970-01-01 00:00:00.000'
    ) AS departure,
    flight.origin AS origin,
    flight.destination AS destination,
    CAST(flight.delay_minutes AS INT) AS delay_minutes,
    flight.distance_miles AS distance_miles,
    flight.event_time AS event_time,
    flight.produced_at AS produced_at,
    flight.is_synthetic AS is_synthetic,
    flight.replay_round AS replay_round,
    rt
FROM flights_decoded
WHERE flight.error IS NULL;

-- Undecodable records, unchanged, with the error and their source position in headers.
CREATE TABLE flights_dead_letters (
    `key` BYTES,
    `value` BYTES,
    `headers` MAP<STRING, BYTES> METADATA
) WITH (
    'connector' = 'kafka',
    'topic' = '${dead_letter_topic}',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'sink.delivery-guarantee' = 'at-least-once',
    'key.format' = 'raw',
    'key.fields' = 'key',
    'value.format' = 'raw',
    'value.fields-include' = 'EXCEPT_KEY'
);

INSERT INTO flights_dead_letters
SELECT
    `key`,
    `value`,
    MAP[
        'error', ENCODE(flight.error, 'UTF-8'),
        'source.topic', ENCODE('${flights_topic}', 'UTF-8'),
        'source.partition', ENCODE(CAST(`partition` AS STRING), 'UTF-8'),
        'source.offset', ENCODE(CAST(`offset` AS STRING), 'UTF-8')
    ]
FROM flights_decoded
WHERE flight.error IS NOT NULL;
