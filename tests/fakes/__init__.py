"""In-memory stand-ins for manywheels' seams (see :mod:`tests.fakes.engine`)."""
