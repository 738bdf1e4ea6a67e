"""NRM Dashboard: case flow, bottlenecks, shelters and plans of a National Referral Mechanism."""

__version__ = "0.1.0"
