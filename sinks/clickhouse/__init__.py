"""ClickHouse sink and the read-only query API over it."""
