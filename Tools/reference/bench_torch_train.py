#!/usr/bin/env python3
"""PyTorch training speed of the ORIGINAL SentenceVAE on CPU: the reference for the Swift SVAE trainer's
benchmark, which reproduces the same synthetic workload exactly.

What it measures
----------------
The original `sentence_vae.models.SentenceVAE` (imported from a checkout, not copied), fp32, built as
the SVAE-768 configs build it (plain-sum pooling, `learnable_add: false`, dropout 0.1 as OPT-125m's
config, FFN 2·hidden, max_seq_len 64, pad 1, bos = eos = 2), default PyTorch initialisation
(torch.manual_seed(0)), in train() mode. One training step =
    zero_grad(set_to_none) → model(ids, mask, mode='loss')['total_loss'] (focal loss) → backward
    → torch.nn.utils.clip_grad_norm_(params, 1.0) → torch.optim.AdamW(lr=1e-4, weight_decay=0.01).step()

Synthetic workload (deterministic; the Swift benchmark builds the identical batches)
    step s = 0 is the warm-up step; the timed steps are s = 1, 2, ..., rounds·steps (round r, 0-based,
    holds s = 1 + r·steps ... (r+1)·steps). For sample i in 0..<batch of step s:
        length L = 8 + (7·i + 3·s) % 17                       (8 ... 24 tokens)
        token t  = 2 if t == 0 else 4 + (1009·i + 37·t + 11·s) % (vocab − 4)
    rows right-padded with 1 to the step's longest row; attention mask 1 on real tokens.

Output: one JSON line per round
    {"round", "steps", "seconds", "real_tokens", "real_tokens_per_s", "padded_tokens_per_s"}
  round              0-based round index
  steps              optimizer steps timed in the round
  seconds            wall time of those steps (time.perf_counter)
  real_tokens        Σ over the round's steps of Σ_i L_i (the tokens the focal loss averages over)
  real_tokens_per_s  real_tokens / seconds
  padded_tokens_per_s  Σ batch × longest L over the round's steps / seconds (what the kernels process)
then one summary line {"median_real_tokens_per_s", "median_padded_tokens_per_s", "median_seconds_per_step",
"threads", "torch", "config"}.

How to run
----------
    pip install torch transformers mmengine requests
    git clone https://github.com/BestAnHongjun/SentenceVAE /tmp/SentenceVAE
    python Tools/reference/bench_torch_train.py /tmp/SentenceVAE [--threads 2] [--rounds 5] [--steps 5]
        [--hidden 768 --heads 12 --layers 1 --vocab 50272 --batch 32 --max-seq-len 64]
(the checkout path may also come from $SENTENCEVAE_REPO; default /tmp/SentenceVAE).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch


def batch_for_step(s, batch, vocab):
    lengths = [8 + (7 * i + 3 * s) % 17 for i in range(batch)]
    T = max(lengths)
    ids = torch.full((batch, T), 1, dtype=torch.int64)
    mask = torch.zeros((batch, T), dtype=torch.int64)
    for i, L in enumerate(lengths):
        ids[i, :L] = torch.tensor([2 if t == 0 else 4 + (1009 * i + 37 * t + 11 * s) % (vocab - 4) for t in range(L)])
        mask[i, :L] = 1
    return ids, mask, sum(lengths), batch * T


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("repo", nargs="?", default=os.environ.get("SENTENCEVAE_REPO", "/tmp/SentenceVAE"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--vocab", type=int, default=50272)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-seq-len", type=int, default=64)
    args = ap.parse_args()
    assert args.max_seq_len >= 24, "the workload has sentences of up to 24 tokens"

    sys.path.insert(0, args.repo)
    from sentence_vae.models import SentenceVAE

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = SentenceVAE(hidden_size=args.hidden, vocab_size=args.vocab, device=torch.device("cpu"),
                        dtype=torch.float32, learnable_add=False, num_attention_heads=args.heads,
                        num_hidden_layers=args.layers, max_seq_len=args.max_seq_len, dropout=0.1,
                        bos_id=2, pad_id=1, end_id=2).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)

    def step(s):
        ids, mask, real, padded = batch_for_step(s, args.batch, args.vocab)
        opt.zero_grad(set_to_none=True)
        loss = model(ids, mask, mode="loss")["total_loss"]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return real, padded

    rounds = run_rounds(step, args.rounds, args.steps)
    print(json.dumps({
        "median_real_tokens_per_s": statistics.median(x["real_tokens_per_s"] for x in rounds),
        "median_padded_tokens_per_s": statistics.median(x["padded_tokens_per_s"] for x in rounds),
        "median_seconds_per_step": round(statistics.median(x["seconds"] for x in rounds) / args.steps, 4),
        "threads": args.threads, "torch": torch.__version__,
        "config": {k: getattr(args, k) for k in ("hidden", "heads", "layers", "vocab", "batch", "max_seq_len")},
        "params": sum(p.numel() for p in params)}))


def run_rounds(step, rounds, steps):
    """Step 0 as a warm-up, then `rounds` timed rounds of `steps` steps (s = 1, 2, …); `step(s)`
    returns (real tokens, padded tokens). Prints one JSON line per round and returns them."""
    step(0)
    lines, s = [], 1
    for r in range(rounds):
        real = padded = 0
        t0 = time.perf_counter()
        for _ in range(steps):
            a, b = step(s)
            real, padded, s = real + a, padded + b, s + 1
        sec = time.perf_counter() - t0
        line = {"round": r, "steps": steps, "seconds": round(sec, 4), "real_tokens": real,
                "real_tokens_per_s": round(real / sec, 1), "padded_tokens_per_s": round(padded / sec, 1)}
        lines.append(line)
        print(json.dumps(line), flush=True)
    return lines


if __name__ == "__main__":
    main()
