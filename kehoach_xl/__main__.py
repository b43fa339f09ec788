"""``python -m kehoach_xl``: the command line."""

import sys

from kehoach_xl.cli.main import main

sys.exit(main())
