"""A random generator seeded by text: the same instance gets the same perturbation on every run."""
from __future__ import annotations

import hashlib
import random


def seeded_rng(*parts: str) -> random.Random:
    return random.Random(int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:12], 16))
