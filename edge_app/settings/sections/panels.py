"""The --help panels settings are grouped in."""

INPUT, OUTPUT, MQTT = "Input", "Output", "MQTT and Home Assistant"
