"""Rasa SDK actions. Thin: they read slots, call ``bot``, and utter domain responses."""
