"""Dev-only tooling for running the whole API on loopback (local/README.md); never deployed."""
