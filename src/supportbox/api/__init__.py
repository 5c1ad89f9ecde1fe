"""The integration APIs: OAuth2, authentication, command and reporting."""
