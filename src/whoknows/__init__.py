"""whoknows: a self-hosted corporate memory of know-how and a map of who knows what."""

__version__ = "0.1.0"
