"""Where results and annotated frames go. registry.py picks them from the settings:

(the live view, --http, is in edge_app.web)
events.py      --events: one JSON line per result
recorder.py    --record: the annotated video
window.py      --display: a local window
base.py        the Sink interface they share
"""
