"""Networks of known behaviour: handcrafted, planted counterexamples, and the training recipe of the zoo.

May import: `verify.check` and everything below it (not `render`, `ci` or `cli`).
"""

from verify.corpus.handcrafted import handcrafted_2_2, handcrafted_median_2, last_input_scalar, weights_of
from verify.corpus.planted import PlantedNetwork, planted_network, random_planted

__all__ = ["PlantedNetwork", "handcrafted_2_2", "handcrafted_median_2", "last_input_scalar", "planted_network",
           "random_planted", "weights_of"]
