"""E-mail: Russian-language templates, delivered by SMTP or written to files."""
