"""The stack's building blocks; each is generated from hub.platform.catalog."""
