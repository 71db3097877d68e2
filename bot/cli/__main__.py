"""`python -m bot.cli …` runs the same command line as the `salespulse` script."""

import sys

from bot.cli import main

sys.exit(main())
