"""manywheels fixture: uses a glibc 2.36 symbol."""
