"""`python -m dispatch.services.bridges <kind>`: the same as `python -m dispatch bridge <kind>`."""

import sys

from .cli import main

sys.exit(main())
