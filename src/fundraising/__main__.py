"""`python -m fundraising` runs the admin CLI."""

from fundraising.entrypoints.cli.main import main

main()
