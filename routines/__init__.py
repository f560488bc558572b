"""The shipped routines (this folder installs as the ``coach.routines`` package)."""
