#!/usr/bin/env python3
"""HF PyTorch OPT-125m-shaped decoding speed on CPU (random weights, fp32, batch 1, 2 threads),
the same measurement as `sentencevae bench opt`: a 64-token prefill, then 32 tokens one at a time
with the KV cache. Run both in one session to compare.

    pip install torch transformers
    python Tools/reference/bench_torch_opt.py
"""
import time, torch
from transformers import OPTConfig, OPTForCausalLM
torch.set_num_threads(2)
cfg = OPTConfig(hidden_size=768, ffn_dim=3072, num_attention_heads=12, num_hidden_layers=12, vocab_size=50272, max_position_embeddings=2048)
m = OPTForCausalLM(cfg).eval()
ids = torch.tensor([[4 + i % 1000 for i in range(64)]])
with torch.no_grad():
    m(ids, use_cache=True)
    t = time.time(); out = m(ids, use_cache=True); pre = time.time() - t
    past = out.past_key_values; nxt = out.logits[:, -1:].argmax(-1)
    t = time.time()
    for _ in range(32):
        out = m(nxt, past_key_values=past, use_cache=True); past = out.past_key_values; nxt = out.logits[:, -1:].argmax(-1)
    dec = time.time() - t
print(f"PyTorch {torch.__version__}: prefill {64/pre:.1f} tok/s, decode {32/dec:.1f} tok/s")
