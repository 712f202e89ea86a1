"""coach: an offline, voice-guided, hands-free coach for psoas release with a massage ball."""

__version__ = "0.1.0"
