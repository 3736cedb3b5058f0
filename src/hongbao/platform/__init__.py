"""Cross-cutting pieces every context uses: clock, errors, invariants and limits."""
