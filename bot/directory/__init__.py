"""The service directory: HSDS 3.0 models, seed loading and the one query module."""
