"""The directory: members and subsystems (X-Road style), the evidence catalogue, access rules."""
