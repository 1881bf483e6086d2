"""The live view's web app: the server, the access gate, limits and routes.

Services (status, teaching, metrics) contribute routes as plain data (edge_app.endpoints);
nothing outside web/, cli/ and app.py imports this package.
"""
