-- Options that set the latency and the semantics of the jobs. Deployment options (jars,
-- parallelism, checkpoints, REST address) come from JobSettings, in jobs/environment.py.

-- Window boundaries and the epoch conversions in outputs.sql assume UTC.
SET 'table.local-time-zone' = 'UTC';

-- Send a network buffer downstream after at most 5 ms, not 100 ms (the default): at low
-- rates a buffer never fills, so this bounds the wait of each row on every exchange.
SET 'execution.buffer-timeout.interval' = '5 ms';

-- Emit watermarks every 50 ms (default 200 ms): a window closes at most this long after
-- the watermark passes its end.
SET 'pipeline.auto-watermark-interval' = '50 ms';

-- A source subtask that reads no record for 5 s is marked idle, so that with parallelism
-- above 1 a subtask whose partitions are empty does not hold the windows back.
SET 'table.exec.source.idle-timeout' = '5 s';

-- Plan the part shared by several INSERTs once (views are expanded per reference, and
-- without this each INSERT decodes every record again).
SET 'table.optimizer.reuse-optimize-block-with-digest-enabled' = 'true';

-- No mini-batch on the hot path: it buffers rows for up to its latency setting.
SET 'table.exec.mini-batch.enabled' = 'false';

-- Python functions run inside the TaskManager JVM (about 4 us per call measured here)
-- instead of in a separate process that exchanges batches with it.
SET 'python.execution-mode' = 'thread';

-- Operators chained in one task pass rows by reference instead of copying them; the
-- SQL operators do not keep references to rows they have emitted.
SET 'pipeline.object-reuse' = 'true';

-- Python functions get their input in bundles that are flushed after this many ms
-- (default 1000): the bound on how long a row waits for the Python function.
SET 'python.fn-execution.bundle.time' = '5';
