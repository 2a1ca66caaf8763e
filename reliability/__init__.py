"""The reliability run of `make chaos` (see run.py)."""
