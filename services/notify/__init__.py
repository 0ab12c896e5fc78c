"""The notification service: tells people when something needs them (e-mail, IM robots, inbox)."""
