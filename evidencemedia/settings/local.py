"""Settings for a developer's machine and the demo started by `make run`."""

from .base import *  # noqa: F403

DEBUG = True
