-- The Python scalar functions of jobs/udfs.py.
CREATE TEMPORARY SYSTEM FUNCTION decode_flight AS 'jobs.udfs.decode_flight' LANGUAGE PYTHON;

CREATE TEMPORARY SYSTEM FUNCTION enrich_flight AS 'jobs.udfs.enrich_flight' LANGUAGE PYTHON;
