"""Safety: the crisis check that runs on every incoming message."""
