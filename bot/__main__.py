"""``python -m bot`` runs the command-line interface."""

from bot.cli import main

main()
