"""manywheels fixture: linked against a library off the loader path."""
