"""The bottom layer: exact linear algebra, the network, the claim, and the one error users see.

Lives here: `errors` (InputError, the one-line bad-input boundary), `linear` (exact constraints
over the inputs, and their coprime integer forms), `weights` (ModelWeights as loaded), `network`
(ExactRNN: exact and float64 forward passes), `claim` (what a claim says and the one claim-name
registry), `by_object` (a cache of values built from objects, keyed by identity).
May import: nothing of `verify` but `verify.core` itself (numpy, and torch lazily, only).
"""

from verify.core.claim import CLAIM_NAMES, KthArgmaxClaim, claim_from_name
from verify.core.errors import InputError
from verify.core.linear import Constraint, Op, Vector
from verify.core.network import ExactRNN
from verify.core.weights import ModelWeights

__all__ = ["CLAIM_NAMES", "Constraint", "ExactRNN", "InputError", "KthArgmaxClaim", "ModelWeights", "Op", "Vector",
           "claim_from_name"]
