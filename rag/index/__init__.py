"""The vector index: the collection layout both backends share, the embedded Qdrant Edge shard and
the Qdrant server store, opening the one the settings name, the BM25 sparse encoder, search filters,
the context a passage is indexed with, and chunks as nodes and hits. It reads the store's types but
never answers a question."""
