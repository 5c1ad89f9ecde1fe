"""supportbox: a self-hosted remote support server.

Its integration APIs speak the Bomgar / BeyondTrust Remote Support wire format.
"""

__version__ = "0.1.0"

#: The API version reported by ``get_api_info`` (spec 4.18).
API_VERSION = "1.19.0"
