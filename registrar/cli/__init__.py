"""The staff command line, ``registrar``."""
