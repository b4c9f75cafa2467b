"""Trajectories (轨迹): a plate's sightings joined into a track, through the policy; exports; map layers.

``build`` joins points (pure), ``window`` bounds the time window, ``service`` reads,
projects and audits, ``export`` renders CSV and GeoJSON, ``boundaries`` imports the
city boundaries layer, ``layers`` serves the checkpoints layer.
"""

from lianfang.track.build import CloneRule, Point, Track, build_track, haversine_km
from lianfang.track.service import InvalidPlate, Trajectories, plate_target
from lianfang.track.window import Window, WindowError, resolve_window

__all__ = [
    "CloneRule",
    "InvalidPlate",
    "Point",
    "Track",
    "Trajectories",
    "Window",
    "WindowError",
    "build_track",
    "haversine_km",
    "plate_target",
    "resolve_window",
]
