"""The web page: a Gradio app over `rag.library` (build and serve in `ui/app.py`)."""
