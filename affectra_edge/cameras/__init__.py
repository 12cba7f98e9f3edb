"""Frame sources and the worker that keeps the latest frame of each."""
