"""The HTTP side: the application, the public site, the consoles."""
