"""Āwhina: service directory, te reo, NLU components and web app for the Rasa bot."""
