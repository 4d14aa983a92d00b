"""MeterHub built-in plugin: cjt188 meters (codec, models, simulator)."""
