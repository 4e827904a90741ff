"""Webhook deliveries: the event's body, its Standard Webhooks signature, and the HTTP client
that POSTs it only to addresses it may reach."""
