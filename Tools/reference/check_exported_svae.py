#!/usr/bin/env python3
"""Check an exported SentenceVAE checkpoint against the ORIGINAL PyTorch module.

What it does
------------
Loads EXPORTED.pth — the original's mmengine layout `{'meta': {...}, 'state_dict': {name: tensor}}`
(a bare state dict is accepted too) — with `torch.load(weights_only=True)` into the original
`sentence_vae.models.SentenceVAE` (imported from a checkout, not copied) with
`load_state_dict(strict=True)`, encodes every sentence listed in EXPECTED.json with the original
encoder (fp32, eval, one sentence at a time, attention mask all ones) and compares each vector with
the expected one.

EXPECTED.json may be any of
  {"inputs": [[ids...], ...], "embeddings": [[floats...], ...]}
  {"results": [{"input_ids": [...], "embedding": [...], ...}, ...]}   (`sentencevae svae --json`)
  {"entries": [{"input_ids": [...], "embedding": [...]}, ...]}        (svae-expected.json fixtures)
  JSON lines, one {"input_ids", "embedding"} object a line

Model sizes: vocab, hidden, layers, word_embed_proj_dim and learnable-add pooling are read from the
state dict's shapes/names; heads must be given (--heads, or num_attention_heads of an HF
config.json given with --config); --hidden/--layers/--vocab, when given, must agree with the
checkpoint. --max-seq-len only sizes the sinusoid table (default: 64 or the longest input, whichever
is larger); it does not change the vectors.

Output: one line per sentence and a summary:
  max_abs  = max_i |ours_i − expected_i|
  rel      = ‖ours − expected‖₂ / ‖expected‖₂
Exit status 0 when every rel <= --tol (default 1e-4), 1 otherwise, 2 on a load/shape error.

How to run
----------
    pip install torch transformers mmengine requests
    git clone https://github.com/BestAnHongjun/SentenceVAE /tmp/SentenceVAE
    python Tools/reference/check_exported_svae.py /tmp/SentenceVAE EXPORTED.pth EXPECTED.json --heads 12
    python Tools/reference/check_exported_svae.py /tmp/SentenceVAE EXPORTED.pth EXPECTED.json --config opt-125m/config.json
    python Tools/reference/check_exported_svae.py /tmp/SentenceVAE --self-test
`--self-test` saves a tiny random original SentenceVAE as a .pth with its vectors in each EXPECTED
format under a temporary directory, checks that they pass, and that a perturbed copy fails.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import torch


def load_expected(path):
    text = open(path).read()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(doc, dict) and "inputs" in doc:
        pairs = list(zip(doc["inputs"], doc["embeddings"]))
        assert len(doc["inputs"]) == len(doc["embeddings"]), "inputs and embeddings differ in count"
    else:
        items = doc if isinstance(doc, list) else doc.get("results", doc.get("entries"))
        if items is None:
            raise ValueError(f"{path}: no inputs/embeddings, results or entries")
        pairs = [(r["input_ids"], r["embedding"]) for r in items]
    return [([int(t) for t in ids], [float(v) for v in emb]) for ids, emb in pairs]


def infer_sizes(sd):
    emb = sd["encoder.embed_token.weight"]
    layers = sorted({int(m.group(1)) for k in sd for m in [re.match(r"encoder\.encoder\.layers\.(\d+)\.", k)] if m})
    hidden = sd["encoder.lnorm.weight"].shape[0]
    return {"vocab": emb.shape[0], "word_embed_proj_dim": emb.shape[1], "hidden": hidden,
            "layers": len(layers), "learnable_add": "encoder.la.weight" in sd}


def build_model(repo, sizes, heads, max_seq_len, pad_id):
    sys.path.insert(0, repo)
    from sentence_vae.models import SentenceVAE
    proj = sizes["word_embed_proj_dim"]
    return SentenceVAE(hidden_size=sizes["hidden"], vocab_size=sizes["vocab"], device=torch.device("cpu"),
                       dtype=torch.float32, learnable_add=sizes["learnable_add"],
                       word_embed_proj_dim=None if proj == sizes["hidden"] else proj,
                       num_attention_heads=heads, num_hidden_layers=sizes["layers"], max_seq_len=max_seq_len,
                       dropout=0.0, pad_id=pad_id)


def check(args):
    expected = load_expected(args.expected)
    try:
        ckpt = torch.load(args.exported, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        print(f"error: torch.load(weights_only=True) failed: {e}")
        return 2
    sd = ckpt["state_dict"] if isinstance(ckpt, dict) and "state_dict" in ckpt else ckpt
    if isinstance(ckpt, dict) and "meta" in ckpt:
        print(f"meta: {json.dumps(ckpt['meta'], default=str)[:300]}")
    sizes = infer_sizes(sd)
    config = json.load(open(args.config)) if args.config else {}
    heads = args.heads or config.get("num_attention_heads")
    if heads is None:
        print("error: give --heads or --config with num_attention_heads")
        return 2
    for flag, key, cfg_key in [("hidden", "hidden", "hidden_size"), ("layers", "layers", None), ("vocab", "vocab", "vocab_size")]:
        want = getattr(args, flag) or (config.get(cfg_key) if cfg_key else None)
        if want is not None and want != sizes[key]:
            print(f"error: --{flag}/config says {want}, the checkpoint has {sizes[key]}")
            return 2
    longest = max(len(ids) for ids, _ in expected)
    max_seq_len = args.max_seq_len or max(64, longest)
    model = build_model(args.repo, sizes, heads, max_seq_len, config.get("pad_token_id", 1))
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        print(f"error: load_state_dict(strict=True): {e}")
        return 2
    model.eval()
    print(f"model: {json.dumps(dict(sizes, heads=heads, max_seq_len=max_seq_len))}, {len(expected)} sentences")
    worst, worst_abs = 0.0, 0.0
    with torch.no_grad():
        for n, (ids, emb) in enumerate(expected):
            x = torch.tensor([ids], dtype=torch.int64)
            ours = model.encoder(x, torch.ones_like(x)).reshape(-1).double()
            ref = torch.tensor(emb, dtype=torch.float64)
            if ours.shape != ref.shape:
                print(f"error: sentence {n}: expected {ref.numel()} values, the model gives {ours.numel()}")
                return 2
            max_abs = (ours - ref).abs().max().item()
            rel = (ours - ref).norm().item() / max(ref.norm().item(), 1e-30)
            worst, worst_abs = max(worst, rel), max(worst_abs, max_abs)
            flag = "" if rel <= args.tol else "  FAIL"
            print(f"[{n}] tokens {len(ids):3d}  max_abs {max_abs:.3e}  rel {rel:.3e}{flag}")
    ok = worst <= args.tol
    print(f"{'OK' if ok else 'FAIL'}: worst rel {worst:.3e}, worst max_abs {worst_abs:.3e} (tolerance {args.tol:g} relative)")
    return 0 if ok else 1


def self_test(repo):
    """Saves a tiny random original SVAE in the original's layout and checks it both ways."""
    sizes = {"vocab": 64, "word_embed_proj_dim": 16, "hidden": 16, "layers": 2, "learnable_add": False}
    torch.manual_seed(0)
    model = build_model(repo, sizes, heads=2, max_seq_len=32, pad_id=1).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn_like(p) * 0.3 + (1.0 if "norm" in name and name.endswith("weight") else 0.0))
    inputs = [[2, 10, 11, 12], [2, 40, 5, 33, 7, 9, 61], [2]]
    with torch.no_grad():
        embs = [model.encoder(torch.tensor([i]), torch.ones(1, len(i), dtype=torch.int64)).reshape(-1).tolist()
                for i in inputs]
    rc = []
    with tempfile.TemporaryDirectory() as d:
        pth = os.path.join(d, "svae.pth")
        torch.save({"meta": {"iter": 0, "experiment_name": "self-test"},
                    "state_dict": {k: v.clone() for k, v in model.state_dict().items()}}, pth)
        docs = {"a.json": {"inputs": inputs, "embeddings": embs},
                "b.json": {"results": [{"input": "", "input_ids": i, "embedding": e} for i, e in zip(inputs, embs)]},
                "bad.json": {"inputs": inputs, "embeddings": [[v * 1.001 for v in e] for e in embs]}}
        for name, doc in docs.items():
            with open(os.path.join(d, name), "w") as f:
                json.dump(doc, f)
            r = subprocess.run([sys.executable, __file__, repo, pth, os.path.join(d, name), "--heads", "2"],
                               capture_output=True, text=True)
            print(f"--- {name}: exit {r.returncode}\n{r.stdout.strip()}")
            rc.append(r.returncode)
    ok = rc == [0, 0, 1]
    print("self-test", "passed" if ok else f"FAILED (exit codes {rc}, wanted [0, 0, 1])")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("repo", help="checkout of BestAnHongjun/SentenceVAE")
    ap.add_argument("exported", nargs="?")
    ap.add_argument("expected", nargs="?")
    ap.add_argument("--config", help="HF config.json of the reference OPT (hidden_size, num_attention_heads, ...)")
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--heads", type=int)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--vocab", type=int)
    ap.add_argument("--max-seq-len", type=int)
    ap.add_argument("--tol", type=float, default=1e-4, help="largest relative error accepted (default 1e-4)")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.backends.mha.set_fastpath_enabled(False)
    if args.self_test:
        sys.exit(self_test(os.path.abspath(args.repo)))
    if not (args.exported and args.expected):
        ap.error("EXPORTED.pth and EXPECTED.json are required (or --self-test)")
    sys.exit(check(args))


if __name__ == "__main__":
    main()
