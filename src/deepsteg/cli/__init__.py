"""The ``deepsteg`` command line."""
