"""Notify service: SMS, email, app push and inbox messages, tracked to delivery."""
