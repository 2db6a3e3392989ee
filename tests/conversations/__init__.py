"""Held-out multi-turn conversations (the YAML files here) and how their turns are checked."""
