"""Why training stopped: a kind plus the message, as Lightning reports it.

A `StopReason` is a ``str`` (the message, so ``print(reason)``,
``reason == "..."`` and ``"GL" in reason`` keep working) that also carries
a `StopKind`, so code can branch on the kind of rule instead of parsing
the words.
"""

from __future__ import annotations

import enum


class StopKind(str, enum.Enum):
    """Which kind of rule stopped training.

    A ``str`` enum: ``StopKind.PATIENCE == "patience"``.
    """

    PATIENCE = "patience"
    THRESHOLD = "threshold"
    DIVERGENCE = "divergence"
    NON_FINITE = "non_finite"
    CRITERION = "criterion"
    CUSTOM = "custom"

    def __str__(self) -> str:
        return self.value


class StopReason(str):
    """The message of a stop, with its `kind`.

    Args:
        message: The reason in words.
        kind: A `StopKind` (or its string value).

    Example:
    >>> reason = StopReason("loss did not improve for 2 epochs", "patience")
    >>> reason.kind is StopKind.PATIENCE, reason.message == str(reason)
    (True, True)
    >>> reason == "loss did not improve for 2 epochs"
    True
    >>> StopReason.from_dict(reason.to_dict()) == reason
    True
    """

    kind: StopKind

    def __new__(cls, message: str, kind: StopKind | str = StopKind.CUSTOM):
        reason = super().__new__(cls, message)
        reason.kind = StopKind(kind)
        return reason

    @property
    def message(self) -> str:
        """The reason in words (the plain string)."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"StopReason({self.message!r}, kind={self.kind.value!r})"

    def __reduce__(self):
        return (StopReason, (self.message, self.kind.value))

    def to_dict(self) -> dict:
        """The reason as JSON-able plain values."""
        return {"kind": self.kind.value, "message": self.message}

    @classmethod
    def from_dict(cls, value: dict | None) -> StopReason | None:
        """Builds a reason from `to_dict` output (None stays None)."""
        if value is None:
            return None
        return cls(value["message"], value["kind"])
