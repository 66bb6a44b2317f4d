"""``python -m kilnwatch.cli`` runs the command line."""

from kilnwatch.cli import main

main()
