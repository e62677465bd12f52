#!/usr/bin/env python3
"""Checks a .pth written by `sentencevae export` (Swift's TorchCheckpointWriter) with PyTorch itself:
loads it with torch.load(weights_only=True) — the safe unpickler, which refuses any callable but
the few torch needs — and with mmap=True (which needs the 64-byte-aligned storages), then compares
every tensor of its state_dict with REFERENCE bit for bit (dtype, shape, raw bytes, NaNs included).
REFERENCE is a .safetensors file, or a torch.save file whose state_dict (or root dict) is used;
a reference that the safe loader refuses (an mmengine checkpoint with its message hub) is loaded
with weights_only=False only when --trust-reference is given. Exits non-zero on any difference.

    sentencevae export model.safetensors --to /tmp/model.pth --meta-iter 5000
    python Tools/reference/check_exported_pth.py /tmp/model.pth model.safetensors
"""
import collections
import sys

import torch


def state_dict_of(obj):
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "module"):
            if isinstance(obj.get(key), dict):
                return obj[key]
    return obj


def raw_bytes(t):
    return t.contiguous().reshape(-1).view(torch.uint8)


def main():
    args = [a for a in sys.argv[1:] if a != "--trust-reference"]
    trust = len(args) != len(sys.argv) - 1
    if len(args) != 2:
        sys.exit(f"usage: {sys.argv[0]} FILE.pth REFERENCE.safetensors|REFERENCE.pth [--trust-reference]")
    path, reference = args
    obj = torch.load(path, weights_only=True)
    if not isinstance(obj, dict) or list(obj.keys()) != ["meta", "state_dict"]:
        sys.exit(f"{path}: expected a dict with keys ['meta', 'state_dict'], got {type(obj).__name__} {list(obj)[:5]}")
    meta, sd = obj["meta"], obj["state_dict"]
    if not isinstance(sd, collections.OrderedDict):
        sys.exit(f"{path}: state_dict is a {type(sd).__name__}, not an OrderedDict")
    mapped = torch.load(path, weights_only=True, mmap=True)["state_dict"]

    if reference.endswith(".safetensors"):
        from safetensors.torch import load_file
        ref = load_file(reference)
    else:
        try:
            ref = torch.load(reference, weights_only=True)
        except Exception as e:
            if not trust:
                sys.exit(f"{reference}: the safe loader refuses it ({str(e).splitlines()[0]}); "
                         "pass --trust-reference if you trust the file")
            ref = torch.load(reference, weights_only=False)
        ref = state_dict_of(ref)
    ref = {k: v for k, v in ref.items() if isinstance(v, torch.Tensor)}

    problems = []
    if set(sd) != set(ref):
        problems.append(f"names differ: only in export {sorted(set(sd) - set(ref))}, only in reference {sorted(set(ref) - set(sd))}")
    dtypes = collections.Counter()
    views = 0
    for name in sd:
        if name not in ref:
            continue
        a, b, m = sd[name], ref[name], mapped[name]
        dtypes[str(a.dtype).replace("torch.", "")] += 1
        views += not a.is_contiguous()
        if a.dtype != b.dtype or a.shape != b.shape:
            problems.append(f"{name}: {a.dtype} {tuple(a.shape)} vs reference {b.dtype} {tuple(b.shape)}")
        elif not torch.equal(raw_bytes(a), raw_bytes(b)):
            problems.append(f"{name}: bytes differ")
        elif not torch.equal(raw_bytes(m), raw_bytes(b)):
            problems.append(f"{name}: bytes differ when loaded with mmap=True")
        if a.requires_grad:
            problems.append(f"{name}: requires_grad is set")
    tied = len(sd) - len({t.untyped_storage().data_ptr() for t in sd.values() if t.numel() > 0} | {n for n, t in sd.items() if t.numel() == 0})
    print(f"{path}: torch {torch.__version__}, weights_only=True and mmap=True loads OK")
    print(f"meta: {meta!r}")
    print(f"{len(sd)} tensors, {sum(t.numel() for t in sd.values())} elements; dtypes {dict(dtypes)}; "
          f"non-contiguous views {views}; tensors sharing a storage {tied}")
    if problems:
        print(f"FAIL: {len(problems)} problem(s)")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print(f"OK: every tensor bit-exact with {reference}")


if __name__ == "__main__":
    main()
