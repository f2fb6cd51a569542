"""Certificates held on behalf of their issuers (电子证照): registered, revoked, expired."""
