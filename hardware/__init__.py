"""Emulated monitoring devices (tags, home units) that speak over a real serial line."""
