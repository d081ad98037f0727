"""``python -m deepsteg``: the same command line as the ``deepsteg`` script."""

import sys

from deepsteg.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
