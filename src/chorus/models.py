"""Every table of every domain, for tools that need the whole schema (migration checks)."""

from chorus.cases import models as cases_models
from chorus.evidence import models as evidence_models
from chorus.matching import models as matching_models
from chorus.monitor import models as monitor_models
from chorus.security import models as security_models
from chorus.store.base import Base
from chorus.takedowns import models as takedowns_models

__all__ = [
    "Base",
    "cases_models",
    "evidence_models",
    "matching_models",
    "monitor_models",
    "security_models",
    "takedowns_models",
]
