"""The SQL adapter: one code path for MySQL/MariaDB (PyMySQL) and SQLite."""
