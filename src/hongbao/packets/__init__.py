"""Red packets: how a packet's total is shared out (fixed and lucky splits)."""
