"""Where frames come from. `factory.open_source(SourceSpec(...))` picks one by kind (factory.KINDS):

synthetic.py      --source synthetic: numbered test frames (optionally real photos)
video.py          --source clip.mp4 / rtsp://... / http://.../stream.mjpg (FFmpeg, with timeouts)
slideshow.py      --source FOLDER: photos, letterboxed to one size, played once (or looped)
spec.py           SourceSpec (camera index or source text), resolution parsing
opencv_camera.py  --camera N (USB webcam, V4L2) or --source /dev/videoN
pi_camera.py      --camera N on a Pi ribbon camera (picamera2, imported only then)

orient.py rotates/mirrors frames for the pipeline; discovery.py lists cameras for `edge-app info`.
Importing this package (or factory, spec, orient) does not import cv2 or picamera2.
"""
