"""hongbao: red-packet (红包) payments with a safe, explainable recall."""

__version__ = "0.1.0"
