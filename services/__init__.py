"""The four CivicPulse services; none imports another."""
