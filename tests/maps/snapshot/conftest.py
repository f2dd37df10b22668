"""The trail map's watched world (real telemetry ingested) and its Qt hygiene, shared."""
from maps.trail.conftest import private_settings, qt_hygiene, world, zone_walk  # noqa: F401
