"""Local fake providers: threaded HTTP servers that speak each provider's documented endpoints."""
