"""``python -m affectra_edge`` is the ``affectra`` command."""

import sys

from affectra_edge.cli import main

if __name__ == "__main__":
    sys.exit(main())
