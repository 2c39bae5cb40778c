"""manywheels fixture: needs x86-64-v3."""
