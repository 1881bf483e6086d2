"""Everything about the model: runtime, delegate, labels, catalog, pre/post-processing."""
