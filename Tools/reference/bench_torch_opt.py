#!/usr/bin/env python3
"""HF PyTorch OPT decoding speed on CPU (random weights, fp32, batch 1), the same measurement as
`sentencevae bench opt`: a prefill of --prompt tokens (after one untimed warm-up of the same
prompt, timed --prefills times on an empty cache, the median reported; logits of the last position
only, `logits_to_keep=1`, as HF generate() does and as ours computes them), then --tokens tokens one
at a time with the KV cache, greedy. Shapes: OPT-125m, 350m and
1.3b. `sentencevae bench opt --torch 'PYTHON Tools/reference/bench_torch_opt.py'` runs it after each
of its fp32 rounds and takes the ratios inside each round; alone it prints one line, or with --json
one object: {"prefill_tokens_per_s", "decode_tokens_per_s", "size", "prompt", "prefills", "tokens",
"threads", "torch"}.

    pip install torch transformers
    python Tools/reference/bench_torch_opt.py [--size 125m|350m|1.3b] [--prompt 64] [--tokens 32] [--prefills 5] [--threads 2] [--json]
"""
import argparse, inspect, json, time, warnings

import torch
from transformers import OPTConfig, OPTForCausalLM
from transformers.utils import logging

from bench_torch_generate import SIZES as SHAPES  # the OPT shapes, as the generation benchmark builds them

logging.set_verbosity_error()   # deprecation notes about the cache API, once per call
warnings.filterwarnings("ignore", category=FutureWarning)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(SHAPES), default="125m")
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--prefills", type=int, default=5, help="prefills timed, each on an empty cache (the median is reported)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = OPTConfig(vocab_size=50272, max_position_embeddings=2048, **SHAPES[a.size])
    m = OPTForCausalLM(cfg).eval()
    ids = torch.tensor([[4 + i % 1000 for i in range(a.prompt)]])
    # Without it the prefill also multiplies every prompt row by the 50,272-row head (1.18x slower
    # at 64 tokens on an Intel Xeon); older transformers lack the argument and pay that.
    keep = {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(m.forward).parameters else {}
    with torch.no_grad():
        m(ids, use_cache=True, **keep)
        times = []
        for _ in range(max(1, a.prefills)):
            t = time.perf_counter(); out = m(ids, use_cache=True, **keep); times.append(time.perf_counter() - t)
        pre = sorted(times)[len(times) // 2]
        past = out.past_key_values; nxt = out.logits[:, -1:].argmax(-1)
        t = time.perf_counter()
        for _ in range(a.tokens):
            out = m(nxt, past_key_values=past, use_cache=True); past = out.past_key_values; nxt = out.logits[:, -1:].argmax(-1)
        dec = time.perf_counter() - t
    if a.json:
        print(json.dumps({"prefill_tokens_per_s": a.prompt / pre, "decode_tokens_per_s": a.tokens / dec, "size": a.size,
                          "prompt": a.prompt, "prefills": a.prefills, "tokens": a.tokens, "threads": a.threads, "torch": torch.__version__}))
    else:
        print(f"PyTorch {torch.__version__}: prefill {a.prompt/pre:.1f} tok/s, decode {a.tokens/dec:.1f} tok/s")


if __name__ == "__main__":
    main()
