"""Fundraising: group money collections with a hexagonal core."""
