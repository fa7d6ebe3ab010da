"""What a benchmark reports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured number: printed as ``BENCH <name>: <value> <unit>``."""

    name: str
    value: float
    unit: str
