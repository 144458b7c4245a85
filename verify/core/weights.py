"""The three float32 weight matrices of a bias-free ReLU RNN as loaded, and their AlgZoo names.

The bottom of the house: every format reads into `ModelWeights`, every stage starts from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

W_HI = "rnn.weight_ih_l0"
W_HH = "rnn.weight_hh_l0"
W_OH = "linear.weight"
EXPECTED_NAMES = (W_HI, W_HH, W_OH)


@dataclass(frozen=True)
class ModelWeights:
    """The three float32 weight matrices of an RNN as loaded, plus where they came from."""

    w_hi: np.ndarray  # (d, 1) float32
    w_hh: np.ndarray  # (d, d) float32
    w_oh: np.ndarray  # (n, d) float32
    path: str
    sha256: str

    @property
    def hidden_size(self) -> int:
        return int(self.w_hh.shape[0])

    @property
    def seq_len(self) -> int:
        return int(self.w_oh.shape[0])

    @property
    def n_params(self) -> int:
        return int(self.w_hi.size + self.w_hh.size + self.w_oh.size)

    def state_dict(self) -> dict[str, "object"]:
        """The AlgZoo state dict (torch tensors) for these weights."""
        import torch

        return {
            W_HI: torch.from_numpy(self.w_hi.copy()),
            W_HH: torch.from_numpy(self.w_hh.copy()),
            W_OH: torch.from_numpy(self.w_oh.copy()),
        }
