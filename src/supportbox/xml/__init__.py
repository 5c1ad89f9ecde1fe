"""The one XML writer of the integration APIs, and their schemas."""
