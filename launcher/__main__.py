"""`python -m launcher` starts the launcher."""

import sys

from launcher.app import main

sys.exit(main())
