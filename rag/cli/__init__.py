"""The `rag` command line: the argument parser and its commands (`commands`), with `rag ask`
(`ask`) and `rag compare` / `rag first` (`compare`) printed from their own modules. The top room:
it reaches `ui` and `eval` only inside the commands that run them, never at import."""

from rag.cli.commands import main

__all__ = ["main"]
