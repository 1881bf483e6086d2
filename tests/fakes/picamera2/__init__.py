"""A fake of the `picamera2` package for tests, on machines without a Pi camera.

It mirrors the signatures of the real raspberrypi/picamera2 calls edge-app makes, and its
arrays lie in memory the way the real library's do for the format requested ("BGR888" is
RGB in memory, "RGB888" is BGR; YUV420 is height*3/2 rows of a padded stride), so a test
catches a colour-order or stride bug. Test knobs are class attributes of Picamera2.
"""

from .job import Job
from .picamera2 import Picamera2

__all__ = ["Job", "Picamera2"]
