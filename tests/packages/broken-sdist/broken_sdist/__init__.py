"""manywheels fixture: its sdist lacks a header the build needs."""
