"""Routing: travel times and the vehicle routing solver (a pure library, see DESIGN.md §5)."""

from routing.check import check_plan
from routing.greedy import greedy
from routing.params import SolveParams
from routing.plan import Cost, Plan, Route, SolverStats, Stop, Unassigned, Visit
from routing.problem import Problem, Shipment, Vehicle
from routing.solve import solve
from routing.travel import UNREACHABLE_M, UNREACHABLE_S, Haversine, TravelTimes

__all__ = [
    "UNREACHABLE_M",
    "UNREACHABLE_S",
    "Cost",
    "Haversine",
    "Plan",
    "Problem",
    "Route",
    "Shipment",
    "SolveParams",
    "SolverStats",
    "Stop",
    "TravelTimes",
    "Unassigned",
    "Vehicle",
    "Visit",
    "check_plan",
    "greedy",
    "solve",
]
