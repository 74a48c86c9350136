"""Answering: retrieve passages for a question, let an answerer (extractive, selector or generative)
compose an answer, and verify every quote verbatim against its stored document before anyone sees
it; plus what is built on that (compare, who said it first, quote export, the JSON shapes) and the
rerank stage. It reads the index and the models; it never writes the collection."""
