"""Dialogue components of our own for Rasa's policy ensemble."""
