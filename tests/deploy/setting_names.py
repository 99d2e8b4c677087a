"""Environment variable names Pressroom reads, derived from the Settings model."""

from __future__ import annotations

from pydantic import BaseModel

from pressroom.core.settings import Settings

PREFIX = "PRESSROOM_"

# Names the deployment files already use for settings that other branches of the Operability
# work add. The lead removes each one from this list when its setting lands; the test then
# checks it against the Settings model like every other name.
PENDING: frozenset[str] = frozenset({})


def _names(model: type[BaseModel], prefix: str) -> set[str]:
    names: set[str] = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _names(annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


def setting_names() -> frozenset[str]:
    """Every PRESSROOM_* variable the Settings model reads (nested sections joined by `__`)."""
    return frozenset(_names(Settings, PREFIX))
