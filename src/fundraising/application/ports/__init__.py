"""Ports: the interfaces the use cases need, as `typing.Protocol`s. No implementation lives here."""
