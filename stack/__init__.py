"""Local services for tests and demos: pinned artifacts, the Kafka broker and its topics."""
