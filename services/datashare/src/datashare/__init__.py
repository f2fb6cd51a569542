"""Datashare service: the data-sharing broker behind 一证通办, audited and signed."""
