"""Regions of a camera's view, each with its own classifier, gate and verified state.

The whole frame is the default region, so a run without regions is the case of one region.
"""
