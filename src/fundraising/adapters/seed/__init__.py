"""Realistic Russian-language test data made with Faker."""
