"""Event contracts shared by every service: envelope, topics and event payload models (data only)."""
