"""Dropout-family layers (see the layers issue; filled as they land)."""

__all__ = []
