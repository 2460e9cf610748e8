"""`python -m bench [--smoke]`: see bench/run.py."""

from bench.run import main

raise SystemExit(main())
