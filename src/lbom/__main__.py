"""``python -m lbom`` is the same as ``l-bom``."""

from lbom._cli import run

if __name__ == "__main__":
    run()
