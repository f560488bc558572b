"""Locale files: every phrase the coach speaks and every word it understands."""
