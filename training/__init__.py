"""Training the project's own relevance models from the structure of licensed corpora.

`python -m training mine` builds the (question, answer passage) pairs and the validation task,
`python -m training train-bi` / `train-ce` fine-tune all-MiniLM-L6-v2, `python -m training
evaluate` measures them on the held-out documents, `python -m training export` writes the
committed weights. `make model` runs them in order. Nothing here is imported by `rag` at run time.
"""
