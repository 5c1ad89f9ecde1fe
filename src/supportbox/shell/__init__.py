"""Command shells: the customer's pseudo-terminal and the representative's."""
