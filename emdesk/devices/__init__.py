"""Serial drivers for tags and home monitoring units (device link work fills this in).

Sits beside ``services``: may use ``domain`` and ``store``, never ``ui``.
"""
