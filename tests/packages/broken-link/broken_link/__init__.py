"""manywheels fixture: a C extension linked against an absent library."""
