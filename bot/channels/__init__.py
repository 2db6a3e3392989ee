"""Input and output channels of our own (SMS) and what they keep in the database."""
