"""Make the reference torch.save files under tests/data/torch/ (run once, with torch installed; the suite doesn't).

    python tests/data/make_torch_fixtures.py

Writes a zip-format and a legacy-format checkpoint of the same small state dict, and torch's weights-only
allowlist, so the tests can check the hand-built pickles and the allowlist constant against real torch output.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import torch
from torch._weights_only_unpickler import _get_allowed_globals

OUT = Path(__file__).resolve().parent / "torch"


def state_dict() -> collections.OrderedDict[str, torch.Tensor]:
    return collections.OrderedDict(
        [
            ("embed.weight", torch.zeros(3, 4)),
            ("norm.bias", torch.ones(4, dtype=torch.bfloat16)),
            ("head.weight", torch.zeros(2, 3, 1, 2, dtype=torch.float16)),
            ("steps", torch.tensor([1, 2], dtype=torch.int64)),
        ]
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    torch.save(state_dict(), OUT / "state_dict.pt")
    torch.save(state_dict(), OUT / "state_dict_legacy.pt", _use_new_zipfile_serialization=False)
    allowed = sorted(_get_allowed_globals())
    (OUT / "weights_only_allowlist.json").write_text(
        json.dumps({"torch": torch.__version__, "globals": allowed}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
