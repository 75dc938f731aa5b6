"""Tenants and who is calling: accounts, API keys, caller authentication."""
