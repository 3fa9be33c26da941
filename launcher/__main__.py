"""`python -m launcher` starts the launcher."""

import sys

from launcher.cli import main

sys.exit(main())
