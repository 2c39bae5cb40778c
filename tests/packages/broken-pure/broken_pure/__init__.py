"""manywheels fixture: the C extension was never declared."""
