"""``python -m ccms``: the same as the ``ccms`` command."""

import sys

from ccms.cli import main

sys.exit(main())
