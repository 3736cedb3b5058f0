"""Tests of the recall engine: its rules one by one, and how the engine combines them."""
