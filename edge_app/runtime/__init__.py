"""The camera runtime: every camera's capture, its regions, and the one inference worker they share."""
