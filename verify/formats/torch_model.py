"""The real PyTorch model in float32: the ground truth every counterexample is re-run on.

Also the batched forward pass shared by Monte Carlo sampling and training.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from verify.core.weights import ModelWeights


class SecondArgmaxRNN(nn.Module):
    """AlgZoo's architecture: bias-free ReLU `nn.RNN` then bias-free `nn.Linear` on the last state."""

    def __init__(self, hidden_size: int, seq_len: int) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_size=1, hidden_size=hidden_size, nonlinearity="relu", bias=False, batch_first=True)
        self.linear = nn.Linear(hidden_size, seq_len, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, n) -> logits (batch, n)."""
        _, h_n = self.rnn(x.unsqueeze(-1))
        return self.linear(h_n.squeeze(0))


def build_module(weights: ModelWeights) -> SecondArgmaxRNN:
    module = SecondArgmaxRNN(weights.hidden_size, weights.seq_len)
    module.load_state_dict(weights.state_dict())
    module.eval()
    return module


class Float32Model:
    """Evaluates the loaded weights exactly as PyTorch does, in float32 on the CPU."""

    def __init__(self, weights: ModelWeights) -> None:
        self.module = build_module(weights)

    @torch.no_grad()
    def logits(self, xs: np.ndarray) -> np.ndarray:
        batch = torch.as_tensor(np.asarray(xs, dtype=np.float32))
        return self.module(batch).numpy()

    @torch.no_grad()
    def predict(self, xs: np.ndarray) -> np.ndarray:
        return np.argmax(self.logits(xs), axis=1)
