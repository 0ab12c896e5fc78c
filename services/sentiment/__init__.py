"""Sentiment service: monitoring online opinion, detecting negative-opinion incidents."""
