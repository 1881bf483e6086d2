"""Settings for `edge-app run`: one typed schema (schema.py), four layers (layers.py), and their
text forms (text.py). Importing it loads no numpy, cv2 or picamera2."""

from edge_app.settings.layers import config_file, read_config, read_config_file, read_environment, resolve
from edge_app.settings.schema import (
    BY_NAME,
    DEFAULT_CAMERA,
    DEFAULT_LIVE_VIEW,
    ENV_PREFIX,
    KEYS,
    SECTION_NAMES,
    CameraConfig,
    Key,
    Settings,
)
from edge_app.settings.text import default_config_text, describe

__all__ = [
    "BY_NAME",
    "DEFAULT_LIVE_VIEW",
    "ENV_PREFIX",
    "KEYS",
    "DEFAULT_CAMERA",
    "SECTION_NAMES",
    "CameraConfig",
    "Key",
    "Settings",
    "config_file",
    "default_config_text",
    "describe",
    "read_config",
    "read_config_file",
    "read_environment",
    "resolve",
]
