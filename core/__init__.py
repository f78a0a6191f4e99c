"""Bottom layer of rtpath: settings, errors, logging and the contracts shared by every stage."""
