"""Understanding."""
