"""Authentication: password and secret hashing, tokens, rate limits."""
