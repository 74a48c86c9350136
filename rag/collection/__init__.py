"""Keeping the store and the index of one collection in step: ingest files into both, check that
they agree and repair them, back them up and restore them together, with a progress line for the
long runs. Above the store and the index, beside answering (neither imports the other)."""
