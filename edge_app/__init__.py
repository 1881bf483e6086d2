"""edge-app: a real-time camera classifier for edge devices."""

__version__ = "0.1.0"
