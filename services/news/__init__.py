"""News service: content items, revisions, publication to channels."""
