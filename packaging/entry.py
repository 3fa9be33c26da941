"""The bundle's entry point: the same command line as `ollama-launcher`."""

import sys

from launcher.cli import main

sys.exit(main())
