"""Intake service: the hall and undifferentiated intake (无差别受理), 容缺, the single output window."""
