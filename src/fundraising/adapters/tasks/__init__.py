"""Background work with Dramatiq: a Redis broker in production, an in-process one when embedded."""
