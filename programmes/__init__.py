"""The shipped programmes (this folder installs as the ``coach.programmes`` package)."""
