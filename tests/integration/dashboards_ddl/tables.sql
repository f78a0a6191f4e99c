-- Stand-in for the ClickHouse sink's DDL, with the columns of the topic contracts in
-- schemas/*.avsc; replaced by the sink's own DDL files once they exist.
CREATE TABLE IF NOT EXISTS flights_enriched
(
    event_id String,
    departure DateTime('UTC'),
    origin LowCardinality(String),
    destination LowCardinality(String),
    delay_minutes Nullable(Int32),
    distance_miles Int32,
    origin_city Nullable(String),
    origin_state Nullable(String),
    origin_latitude Nullable(Float64),
    origin_longitude Nullable(Float64),
    destination_city Nullable(String),
    destination_state Nullable(String),
    destination_latitude Nullable(Float64),
    destination_longitude Nullable(Float64),
    great_circle_miles Nullable(Float64),
    event_time DateTime64(3, 'UTC'),
    produced_at DateTime64(6, 'UTC'),
    enriched_at DateTime64(6, 'UTC'),
    is_synthetic Bool,
    replay_round Int32,
    kafka_partition Int32,
    kafka_offset Int64,
    inserted_at DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = MergeTree
ORDER BY (toStartOfMinute(event_time), origin, event_time);

CREATE TABLE IF NOT EXISTS delays_by_airport_1m
(
    origin LowCardinality(String),
    window_start DateTime64(3, 'UTC'),
    window_end DateTime64(3, 'UTC'),
    flights UInt64,
    delayed_flights UInt64,
    avg_delay_minutes Nullable(Float64),
    max_delay_minutes Nullable(Int32),
    max_produced_at DateTime64(6, 'UTC'),
    emitted_at DateTime64(6, 'UTC'),
    kafka_partition Int32,
    kafka_offset Int64,
    inserted_at DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(emitted_at)
ORDER BY (origin, window_start);

CREATE TABLE IF NOT EXISTS flights_by_state_10s
(
    origin_state String,
    window_start DateTime('UTC'),
    flights SimpleAggregateFunction(sum, UInt64),
    delayed_flights SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY (window_start, origin_state);

CREATE MATERIALIZED VIEW IF NOT EXISTS flights_by_state_10s_mv TO flights_by_state_10s AS
SELECT
    ifNull(origin_state, '') AS origin_state,
    toStartOfInterval(event_time, INTERVAL 10 SECOND) AS window_start,
    toUInt64(count()) AS flights,
    toUInt64(countIf(delay_minutes >= 15)) AS delayed_flights
FROM flights_enriched
GROUP BY origin_state, window_start;
