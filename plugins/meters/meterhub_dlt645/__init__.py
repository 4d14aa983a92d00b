"""MeterHub built-in plugin: dlt645 meters (codec, models, simulator)."""
