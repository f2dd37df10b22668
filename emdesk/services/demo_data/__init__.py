"""Pieces of the deterministic demo world: name pools, places, staff, orders, kit, visits.

Everything here draws from one ``Gen`` (a seeded ``random.Random`` and a fixed "now"),
so the same seed always gives the same records.
"""
