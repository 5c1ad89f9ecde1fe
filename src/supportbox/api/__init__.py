"""The integration APIs: OAuth2 tokens, authentication, the Command API."""
