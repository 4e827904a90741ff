"""The read cache and the login-attempt counters: Redis in production, memory when embedded.

One adapter owns the key scheme for both sides: the HTTP layer looks responses up and stores
them under the current version of their scope; use cases bump versions after their commits.
A scope is a collect (its detail and its feed) or "lists" (every collect list). Versions are
random tokens, never counters, so an evicted or reset version can never match an old entry.
"""
