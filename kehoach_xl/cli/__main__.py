"""``python -m kehoach_xl.cli``: the command line."""

import sys

from kehoach_xl.cli.main import main

sys.exit(main())
