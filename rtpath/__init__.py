"""Top layer of rtpath: the `rtpath` command line and the orchestration of whole runs."""
