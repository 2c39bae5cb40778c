"""The ``manywheels`` command line's commands that are not stages (one private module each)."""
