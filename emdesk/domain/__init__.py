"""Pure domain model of electronic monitoring: entities, rules, time and geometry.

Nothing here imports Qt, SQL or does I/O; every layer above builds on these types.
"""
