"""`edge-app service install | uninstall | status`: the unit file, the plan of steps and their
execution, the service user's access to this installation, and where to watch the result.

What runs inside the service lives in edge_app.service.
"""
