-- Rollup that ClickHouse maintains itself: flights and delays per origin state per 10 s of
-- event time. Read it with GROUP BY and sum/max/avgMerge, because parts merge lazily.
-- NOTE: the view writes its own part after the flights_enriched part of the same insert. A
-- crash between the two leaves that batch out of the rollup, and resuming does not repair it.

CREATE TABLE IF NOT EXISTS flights_by_state_10s
(
    window_start DateTime('UTC') COMMENT 'Start of the 10-second event-time window, inclusive.',
    origin_state LowCardinality(String) COMMENT 'State of the origin airport; empty when the origin is not in the airports dimension.',
    flights SimpleAggregateFunction(sum, UInt64) COMMENT 'Flights in the window.',
    delayed_flights SimpleAggregateFunction(sum, UInt64) COMMENT 'Flights with a delay of 15 minutes or more.',
    delay_minutes_avg AggregateFunction(avg, Nullable(Int32)) COMMENT 'State of the average delay in minutes over flights with a delay value; read with avgMerge.',
    delay_minutes_max SimpleAggregateFunction(max, Nullable(Int32)) COMMENT 'Largest delay in minutes, null when no flight has a delay value.',
    max_produced_at SimpleAggregateFunction(max, DateTime64(6, 'UTC')) COMMENT 'Largest produced_at of the flights in the window.'
)
ENGINE = AggregatingMergeTree
ORDER BY (window_start, origin_state)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Flights and delays per origin state per 10 seconds of event time, aggregated from flights_enriched on insert.';

CREATE MATERIALIZED VIEW IF NOT EXISTS flights_by_state_10s_mv TO flights_by_state_10s AS
SELECT
    toStartOfInterval(event_time, INTERVAL 10 SECOND, 'UTC') AS window_start,
    ifNull(origin_state, '') AS origin_state,
    count() AS flights,
    countIf(delay_minutes >= 15) AS delayed_flights,
    avgState(delay_minutes) AS delay_minutes_avg,
    max(delay_minutes) AS delay_minutes_max,
    max(produced_at) AS max_produced_at
FROM flights_enriched
GROUP BY window_start, origin_state
COMMENT 'Aggregates each insert into flights_enriched into flights_by_state_10s.';
