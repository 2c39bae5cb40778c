"""The CLI's own commands besides the stages: ``plan``/``matrix`` (:mod:`._matrix`) and
``init`` (:mod:`._scaffold`)."""

from __future__ import annotations
