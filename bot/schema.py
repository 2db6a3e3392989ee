"""Imports every module that defines tables, so ``Base.metadata`` knows them all.

Alembic's environment and the tests import this one module; a new model module
is added here once.
"""

from bot.channels import models as channel_models
from bot.db import Base
from bot.directory import curation as curation_models
from bot.directory import models as directory_models
from bot.directory.hsds import models as hsds_models
from bot.handoff import models as handoff_models
from bot.insights import models as insight_models
from bot.navigator import limits as navigator_limits
from bot.navigator import sessions as navigator_sessions

__all__ = [
    "Base",
    "channel_models",
    "curation_models",
    "directory_models",
    "handoff_models",
    "hsds_models",
    "insight_models",
    "navigator_limits",
    "navigator_sessions",
]
