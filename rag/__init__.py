"""Search and cited answers over a collection of statements. The rooms, lowest first: `models`
(embedding, relevance, LLM backends), `settings`, `store` (the canonical SQLite store, speakers,
data-dir locks), `index` (the vector index), `collection` (ingest, check, backup) and `answer`
(ask and what is built on it), then `library` (the Python API), `remote` and `cli` at the top."""
