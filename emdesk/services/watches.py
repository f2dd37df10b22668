"""Orders compiled for the engine: kept in the domain (``emdesk.domain.engine.fleet``) so
the hub builds its fleet with the same code; re-exported here for the services."""
from emdesk.domain.engine.fleet import (
    WATCHED_STATUSES,
    Fleet,
    compile_fleet,
    fitted_span,
    home_of,
    order_life_ms,
)

__all__ = ["WATCHED_STATUSES", "Fleet", "compile_fleet", "fitted_span", "home_of", "order_life_ms"]
