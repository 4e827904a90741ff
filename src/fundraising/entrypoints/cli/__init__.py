"""The `fundraising` admin command line."""
