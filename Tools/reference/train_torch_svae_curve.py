#!/usr/bin/env python3
"""Trains the ORIGINAL SentenceVAE for a fixed wall-clock time and saves checkpoints along the
way: the PyTorch side of the quality-per-minute comparison that Tools/compare-training-curve runs
against `sentencevae train svae` (same machine, same minutes, same threads, same data).

What it runs
------------
The original `sentence_vae.models.SentenceVAE` (imported from a checkout, not copied), fp32, built
as the original's tools/train/train_svae.py builds it from a reference OPT directory (sizes, ids,
dropout from its config.json; default PyTorch initialisation, torch.manual_seed(--seed)), in
train() mode. Batches are the original's `SentenceCollate` over its `get_tokenizer` (HF
AutoTokenizer of the reference directory): truncation to max_seq_len, right padding, then padded
to max_seq_len (fix_len, as the original always does). One step = zero_grad → model(ids, mask,
mode='loss')['total_loss'] (focal loss) → backward → clip_grad_norm_(1.0) → AdamW(lr, wd 0.01)
.step(). The learning rate is the original's LinearLR (start factor 1e-3 over --warmup
iterations) and nothing after it (constant), so a run cut at any minute is the same recipe. No EMA
(the comparison evaluates raw weights on both sides). The original's mmengine Runner is not used:
it would add its own overhead to the PyTorch side.

Data: the train items in order, one JSON string per line of --items (Tools/compare-training-curve
writes them from `sentencevae data serve`, so both trainers see the same items in the same
order). The loop stops at the first step that would end after --minutes (measured from
--start-time, the moment the driver launched both trainers; default: this script's start).

Output (in --out):
  iter_NNNNNNN.pth   {"state_dict": …} every --checkpoint-every iterations and at the end
  log.jsonl          one line per checkpoint: {"iter", "time" (unix seconds), "loss"}
                     and a first line {"torch", "threads", "params", "config"}

    python Tools/reference/train_torch_svae_curve.py /tmp/SentenceVAE --items ITEMS.jsonl \
        --ref-dir exp/default-models/ref --minutes 15 --threads 1 --out /tmp/curve/torch
"""
import argparse
import json
import os
import sys
import time

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("repo", nargs="?", default=os.environ.get("SENTENCEVAE_REPO", "/tmp/SentenceVAE"))
    ap.add_argument("--items", required=True, help="train items, one JSON string per line, in training order")
    ap.add_argument("--ref-dir", required=True, help="reference OPT directory (config.json + tokenizer)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--start-time", type=float, help="unix time the clock starts from (default: now)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint-every", type=int, default=50)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--max-seq-len", type=int, default=32)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    start = args.start_time or time.time()
    deadline = start + 60 * args.minutes

    sys.path.insert(0, args.repo)
    from sentence_vae.data import SentenceCollate
    from sentence_vae.models import SentenceVAE
    from sentence_vae.utils import get_config, get_tokenizer

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    ref = get_config(args.ref_dir)
    model = SentenceVAE(hidden_size=ref.hidden_size, vocab_size=ref.vocab_size, device=torch.device("cpu"),
                        dtype=torch.float32, learnable_add=False, load_ref_model=False, ref_model_dir=args.ref_dir,
                        finetune_embedding=True, num_attention_heads=ref.num_attention_heads,
                        num_hidden_layers=args.layers, max_seq_len=args.max_seq_len, dropout=ref.dropout,
                        bos_id=ref.bos_token_id, pad_id=ref.pad_token_id, end_id=ref.eos_token_id).train()
    tokenizer = get_tokenizer(args.ref_dir, args.max_seq_len)
    if not hasattr(tokenizer, "batch_encode_plus"):
        # transformers 5 dropped batch_encode_plus, which the original's collate calls; calling the
        # tokenizer on the list is what it did.
        type(tokenizer).batch_encode_plus = lambda self, texts, **kw: self(texts, **kw)
    collate = SentenceCollate(tokenizer=tokenizer, max_len=args.max_seq_len, padding=True)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    with open(args.items, encoding="utf-8") as f:
        items = [json.loads(line) for line in f]

    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "log.jsonl"), "w", encoding="utf-8")
    log.write(json.dumps({"torch": torch.__version__, "threads": args.threads, "params": sum(p.numel() for p in params),
                          "config": {k: getattr(args, k) for k in ("layers", "max_seq_len", "batch", "lr", "warmup", "seed")}}) + "\n")

    def save(iteration, loss):
        path = os.path.join(args.out, f"iter_{iteration:07d}.pth")
        torch.save({"state_dict": model.state_dict()}, path + ".tmp")
        os.replace(path + ".tmp", path)
        log.write(json.dumps({"iter": iteration, "time": time.time(), "loss": loss}) + "\n")
        log.flush()

    iteration, loss, step_seconds = 0, float("nan"), 0.0
    while True:
        # Stop before a step that would end past the deadline (by the last step's duration).
        if time.time() + step_seconds > deadline:
            break
        lo = (iteration * args.batch) % len(items)
        texts = (items + items)[lo:lo + args.batch] if lo + args.batch > len(items) else items[lo:lo + args.batch]
        ids, mask = collate(texts)
        t0 = time.time()
        factor = 1e-3 + (1 - 1e-3) * min(iteration, args.warmup) / args.warmup if args.warmup > 0 else 1.0
        for group in opt.param_groups:
            group["lr"] = args.lr * factor
        opt.zero_grad(set_to_none=True)
        out = model(ids, mask, mode="loss")["total_loss"]
        out.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        loss = float(out)
        iteration += 1
        step_seconds = time.time() - t0
        if iteration % args.checkpoint_every == 0:
            save(iteration, loss)
    if iteration % args.checkpoint_every != 0:
        save(iteration, loss)
    print(json.dumps({"iterations": iteration, "seconds": round(time.time() - start, 1), "last_loss": loss}))


if __name__ == "__main__":
    main()
