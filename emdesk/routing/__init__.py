"""Day routes for field officers: who visits where, in what order, at what time.

Plain data in (:mod:`.problem`), a plan out (:mod:`.result`); OR-Tools' vehicle-routing
solver does the work (:mod:`.solver`), travel times come from :mod:`.travel`, and
:mod:`.baseline` is the nearest-neighbour heuristic the benchmark measures against.
Nothing here reads the store: the day-plan service builds the problem and writes the plan.
"""
from .problem import Break, Job, Officer, Problem, service_minutes
from .result import Plan, Route, Stop, Unassigned
from .solver import solve
from .travel import RoadSpeedModel, TravelModel, great_circle_km

__all__ = ["Break", "Job", "Officer", "Problem", "service_minutes", "Plan", "Route", "Stop", "Unassigned",
           "solve", "RoadSpeedModel", "TravelModel", "great_circle_km"]
