"""`python -m rag.cli ...`: the same command line as the `rag` script."""

import sys

from rag.cli.commands import main

sys.exit(main())
