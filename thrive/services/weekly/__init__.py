"""The weekly rhythm (§6): ``circles`` (Thrive Circles: assignment, goal, panel), ``goals`` (weekly goals)
and ``recap`` (the weekly recap notification)."""
