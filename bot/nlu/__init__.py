"""Rasa NLU pieces built from the repo's own data: the spaCy pipeline and custom components."""
