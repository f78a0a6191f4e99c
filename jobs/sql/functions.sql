-- The functions the SQL calls. The Java one is compiled from jobs/java/src into a jar on
-- pipeline.jars (jobs/functions_jar.py); the Python one is in jobs/udfs.py.
CREATE TEMPORARY SYSTEM FUNCTION great_circle_miles AS 'rtpath.flink.GreatCircleMiles'
LANGUAGE JAVA;

CREATE TEMPORARY SYSTEM FUNCTION enrich_flight AS 'jobs.udfs.enrich_flight' LANGUAGE PYTHON;
