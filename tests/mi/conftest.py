from __future__ import annotations

import pytest

from emdesk.domain.clock import FixedClock
from emdesk.services.mi import ManagementService

from .world import NOW, build


@pytest.fixture
def world(store):
    """(store, its supervisor) with the world of ``world.py``."""
    return store, build(store)


@pytest.fixture
def service(world):
    store, sup = world
    return ManagementService(store, sup, FixedClock(NOW))
