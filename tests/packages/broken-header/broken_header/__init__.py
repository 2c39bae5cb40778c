"""manywheels fixture: a C extension that needs libyaml headers."""
