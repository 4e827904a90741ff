"""Password hashing (Argon2id) and signed tokens (PyJWT)."""
