"""Where results and annotated frames go. registry.py picks them from the settings:

http.py        --http: the live view (MJPEG, snapshot, status), with http_server/hub/address/status
events.py      --events: one JSON line per result
recorder.py    --record: the annotated video
window.py      --display: a local window
base.py        the Sink interface they share
"""
