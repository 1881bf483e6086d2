"""One module per config section, each a typed class; registry.py lists them."""
