"""Allow ``python -m chorus.cli``."""

from chorus.cli.app import main

main()
