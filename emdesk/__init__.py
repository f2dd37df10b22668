"""emdesk: desktop software for electronic monitoring."""
__version__ = "0.1.0"
