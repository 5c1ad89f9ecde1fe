"""Screen sharing: the update format, capture and input on the customer."""
