"""`python -m wfctl`: the same command as the installed `wfctl` console script."""

import sys

from wfctl.cli import main

if __name__ == "__main__":
    sys.exit(main())
