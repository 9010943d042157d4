"""The registry sync: push the public records to registry operators over EPP."""
