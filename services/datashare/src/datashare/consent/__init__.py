"""Consent (授权): the subject allows a certificate type to be shared; recorded and revocable."""
