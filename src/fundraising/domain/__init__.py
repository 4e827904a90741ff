"""The pure core: entities, value objects and the rules they enforce (stdlib and attrs only)."""
