"""CivicPulse platform library: envelope, contracts, outbox, inbox, dead letters, settings."""

__all__ = ["__version__"]
__version__ = "0.1.0"
