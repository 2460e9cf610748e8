"""Dev-only tooling (never deployed): generators of the committed API documents."""
