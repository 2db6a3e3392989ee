"""End-to-end benchmark of Āwhina against Rasa's stock starter bot (``make bench``).

Every figure is measured in the same run for both bots, so the ratio to the
stock bot says more than the absolute numbers on a shared, noisy machine.
"""
