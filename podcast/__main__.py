"""`python -m podcast` runs the CLI."""

from .cli import main

main()
