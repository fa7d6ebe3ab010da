"""The mentor and instructor console."""
