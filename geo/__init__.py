"""Lägesbild analysis core.

Pure functions and small classes on (Geo)DataFrames: import and validation (`geo.io`),
time windows, grid hotspots, density clusters, zones, before/after comparison, exports,
map builders and persistence. This package never imports Streamlit.
"""

__version__ = "0.1.0"
