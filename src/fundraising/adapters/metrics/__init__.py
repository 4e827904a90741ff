"""Metrics in Prometheus's format: what the app, the worker and the outbox tell operators."""
