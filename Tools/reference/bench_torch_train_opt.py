#!/usr/bin/env python3
"""PyTorch training speed of HF OPT on CPU: the reference for `sentencevae bench train opt`, which
builds the identical synthetic batches.

What it measures
----------------
HF `OPTForCausalLM` with random weights (torch.manual_seed(0)), fp32, train() mode (dropout 0.1),
pre-LN, FFN 4·hidden, tied LM head. One training step =
    zero_grad(set_to_none) → model(ids, attention_mask, labels) (labels = ids with padding −100:
    mean cross-entropy over every real next token) → backward → clip_grad_norm_(params, 1.0)
    → torch.optim.AdamW(lr=1e-4, weight_decay=0.01).step()

Synthetic workload (step s = 0 is the warm-up; round r times s = 1 + r·steps … (r+1)·steps):
    sample i of step s has L = 64 + (7·i + 3·s) % 65 tokens (64 … 128);
    token t = 2 if t == 0 else 4 + (1009·i + 37·t + 11·s) % (vocab − 4);
    rows right-padded with 1 to the step's longest row.

Output: one JSON line per round {"round", "steps", "seconds", "real_tokens", "real_tokens_per_s",
"padded_tokens_per_s"} (real tokens = Σ L, the rows' tokens), then a summary line.

    pip install torch transformers
    python Tools/reference/bench_torch_train_opt.py [--threads 2] [--rounds 3] [--steps 2]
        [--hidden 768 --heads 12 --layers 12 --vocab 50272 --batch 4]
"""
import argparse
import json
import os
import statistics
import sys

import torch
from transformers import OPTConfig, OPTForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch_train import run_rounds  # noqa: E402  (the same warm-up and timed rounds)


def batch_for_step(s, batch, vocab):
    rows = []
    for i in range(batch):
        length = 64 + (7 * i + 3 * s) % 65
        rows.append([2 if t == 0 else 4 + (1009 * i + 37 * t + 11 * s) % (vocab - 4) for t in range(length)])
    longest = max(len(r) for r in rows)
    ids = torch.full((batch, longest), 1, dtype=torch.long)
    mask = torch.zeros((batch, longest), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    labels = ids.masked_fill(mask == 0, -100)
    return ids, mask, labels, sum(len(r) for r in rows), batch * longest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=50272)
    ap.add_argument("--batch", type=int, default=4)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = OPTConfig(hidden_size=args.hidden, num_attention_heads=args.heads, num_hidden_layers=args.layers,
                       ffn_dim=4 * args.hidden, vocab_size=args.vocab, max_position_embeddings=2048,
                       word_embed_proj_dim=args.hidden, do_layer_norm_before=True, dropout=0.1,
                       attention_dropout=0.0, activation_dropout=0.0, pad_token_id=1, bos_token_id=2, eos_token_id=2)
    model = OPTForCausalLM(config).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)

    def step(s):
        ids, mask, labels, real, padded = batch_for_step(s, args.batch, args.vocab)
        opt.zero_grad(set_to_none=True)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return real, padded

    rounds = run_rounds(step, args.rounds, args.steps)
    print(json.dumps({"median_real_tokens_per_s": statistics.median(x["real_tokens_per_s"] for x in rounds),
                      "threads": args.threads, "torch": torch.__version__, "params": sum(p.numel() for p in params)}))


if __name__ == "__main__":
    main()
