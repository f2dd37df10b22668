"""The breach pack UI's desks (``packui_kit``): see there."""
from packui_kit import demo_desk, desk, world_store  # noqa: F401  (fixtures)
