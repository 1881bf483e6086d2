"""Being part of a fleet: MQTT with Home Assistant discovery, and what it publishes.

The modules here are pure (URLs, topic names, payloads, change detection, the outbox): the
MQTT client lives in edge_app/sinks/mqtt.py and the Prometheus metrics in edge_app/metrics.py.
"""
