"""``python -m lbom`` is the same as ``l-bom``."""

from lbom._cli import main

main()
