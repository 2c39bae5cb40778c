"""manywheels fixture: a healthy C extension."""
