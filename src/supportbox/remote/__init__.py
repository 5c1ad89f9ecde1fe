"""The customer's side of shells and file transfers, for any live client."""
