"""Drivers of the core: the HTTP app, the admin CLI and the worker process."""
