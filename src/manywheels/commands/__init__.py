"""The ``manywheels`` command line's commands that are not stages (one private module each):
``plan``/``matrix`` (:mod:`._matrix`), ``init`` (:mod:`._scaffold`), ``export-script``
(:mod:`._export`)."""
