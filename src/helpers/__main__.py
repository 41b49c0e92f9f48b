"""`python -m helpers`: the command line (see helpers.cli)."""

import sys

from helpers.cli import main

sys.exit(main())
