"""``python -m stepdistill`` (also what ``torchrun -m stepdistill`` runs)."""

import sys

from stepdistill.cli.main import main

sys.exit(main())
