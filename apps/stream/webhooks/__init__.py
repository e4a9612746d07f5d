"""One module per provider that delivers webhooks: verify, map, store."""
