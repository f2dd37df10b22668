"""Use cases: what a signed-in person can do, checked against their role."""
