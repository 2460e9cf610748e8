"""Dev-only tooling for running the whole API on loopback (SPEC section 7); never deployed."""
