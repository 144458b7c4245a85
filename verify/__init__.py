"""Exact, SMT-backed verification of tiny bias-free ReLU RNNs."""

__version__ = "0.1.0"
