"""The canonical store: documents, chunks and speakers in SQLite (the truth the index is rebuilt
from), the speaker identities read from it, and the files in a data dir that coordinate processes
(write and index locks, `serve.json` of a running `rag serve`). Below the index: it knows nothing
of vectors."""
