#!/usr/bin/env python3
"""Convert bge-m3's extra heads from PyTorch pickles to safetensors, for edgepool.

BAAI/bge-m3 ships its sparse and ColBERT heads as `sparse_linear.pt` and `colbert_linear.pt`
(pickled `nn.Linear` state dicts: `weight` [out, hidden], `bias` [out]). edgepool never unpickles
in JavaScript; run this once next to the model (needs only PyTorch):

    python3 scripts/bge-m3-heads-to-safetensors.py path/to/bge-m3

It writes `sparse_linear.safetensors` and `colbert_linear.safetensors` (float32, the same tensor
names) beside the .pt files. Then serve with
`--hf-overrides '{"architectures":["BgeM3EmbeddingModel"]}'`.
"""
import json
import struct
import sys
from pathlib import Path

HEADS = ("sparse_linear", "colbert_linear")


def write_safetensors(path, tensors):
    """The safetensors layout: u64 header length, JSON header, raw little-endian float32 data."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().float().contiguous().cpu().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def convert(src, dst=None):
    import torch

    src = Path(src)
    dst = Path(dst or src)
    for head in HEADS:
        pt = src / f"{head}.pt"
        if not pt.exists():
            sys.exit(f"{pt} not found")
        state = torch.load(pt, map_location="cpu", weights_only=True)
        missing = {"weight", "bias"} - set(state)
        if missing:
            sys.exit(f"{pt} lacks {', '.join(sorted(missing))}")
        write_safetensors(dst / f"{head}.safetensors", {"weight": state["weight"], "bias": state["bias"]})
        print(f"{dst / (head + '.safetensors')}: weight {list(state['weight'].shape)}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: bge-m3-heads-to-safetensors.py MODEL_DIR [OUT_DIR]")
    convert(*sys.argv[1:])
