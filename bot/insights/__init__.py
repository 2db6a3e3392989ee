"""Needs and gaps: anonymous demand records and the figures built from them."""
