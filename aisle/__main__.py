"""`python -m aisle ...` is the `aisle` command."""

from aisle.cli import main

raise SystemExit(main())
