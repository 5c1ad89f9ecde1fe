"""Session recordings: asciicast v2 shell recordings, their rows and links."""
