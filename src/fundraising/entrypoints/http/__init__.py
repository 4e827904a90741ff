"""The Litestar HTTP API: thin handlers that parse, call a use case and render."""
