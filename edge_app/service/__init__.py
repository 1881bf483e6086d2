"""What runs inside the systemd service: the notify protocol, the watchdog, journald logging.

Installing the service (unit file, user, steps, status) lives in edge_app.install.
"""
