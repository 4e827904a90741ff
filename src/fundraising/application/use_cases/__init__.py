"""One use case per user intention; each takes one input object and returns a read model."""
