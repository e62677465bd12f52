#!/usr/bin/env python3
"""Golden outputs of the PyTorch layers the models are built from, with random weights at tiny sizes.

  - nn.MultiheadAttention (batch_first; self-attention with key padding, cross-attention)
  - nn.TransformerEncoderLayer / nn.TransformerDecoderLayer exactly as the original SentenceVAE
    configures them (post-norm, ReLU, dim_feedforward = 2 * hidden, batch_first)
  - HF transformers OPTDecoderLayer, pre-LN (125m/1.3b style) and post-LN (350m style), eager attention
  - the original's sinusoidal position table (sentence_vae/models/positional_encoding.py)

Writes Tests/NeuralNetTests/Fixtures/layer_goldens.json (eval mode, fp32). Every parameter gets
random values (biases and LayerNorm affines too) so no term of the computation can hide.

    /tmp/venv/bin/pip install torch transformers numpy
    /tmp/venv/bin/python Tools/reference/make_layer_goldens.py
"""
import json
import math
import pathlib

import torch
import torch.nn as nn
from transformers import OPTConfig
from transformers.models.opt.modeling_opt import OPTDecoderLayer

torch.manual_seed(0)
torch.backends.mha.set_fastpath_enabled(False)  # the reference math path, also at padded positions
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/NeuralNetTests/Fixtures/layer_goldens.json"

B, T, M, E, H = 2, 5, 1, 16, 4
LENGTHS = [5, 3]  # second sequence is right-padded


def randomize(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
        for name, p in module.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.add_(1.0)
    return module.eval()


def state(module):
    return {k: {"shape": list(v.shape), "values": v.reshape(-1).tolist()} for k, v in module.state_dict().items()}


def arr(x):
    return {"shape": list(x.shape), "values": x.detach().reshape(-1).tolist()}


padding = torch.tensor([[i >= n for i in range(T)] for n in LENGTHS])  # True = padding
x = torch.randn(B, T, E)
memory = torch.randn(B, M, E)
goldens = {"padding": padding.to(torch.int64).reshape(-1).tolist(), "x": arr(x), "memory": arr(memory)}

mha = randomize(nn.MultiheadAttention(E, H, batch_first=True))
with torch.no_grad():
    goldens["mha_self"] = {"params": state(mha), "y": arr(mha(x, x, x, key_padding_mask=padding, need_weights=False)[0])}
    goldens["mha_cross"] = {"params": state(mha), "y": arr(mha(x, memory, memory, need_weights=False)[0])}

enc = randomize(nn.TransformerEncoderLayer(E, H, dim_feedforward=2 * E, dropout=0.1, batch_first=True))
with torch.no_grad():
    goldens["encoder_layer"] = {"params": state(enc), "y": arr(enc(x, src_key_padding_mask=padding))}

dec = randomize(nn.TransformerDecoderLayer(E, H, dim_feedforward=2 * E, dropout=0.1, batch_first=True))
causal = nn.Transformer.generate_square_subsequent_mask(T) == -torch.inf
with torch.no_grad():
    y = dec(x, memory, tgt_mask=causal, tgt_key_padding_mask=padding, tgt_is_causal=True)
    goldens["decoder_layer"] = {"params": state(dec), "y": arr(y)}

for name, before in [("opt_layer_pre_ln", True), ("opt_layer_post_ln", False)]:
    config = OPTConfig(hidden_size=E, num_attention_heads=H, ffn_dim=3 * E, do_layer_norm_before=before,
                       attn_implementation="eager", dropout=0.0, attention_dropout=0.0)
    layer = randomize(OPTDecoderLayer(config, layer_idx=0))
    allowed = ~padding[:, None, None, :] & torch.ones(T, T, dtype=torch.bool).tril()[None, None]
    additive = torch.zeros(B, 1, T, T).masked_fill(~allowed, torch.finfo(torch.float32).min)
    with torch.no_grad():
        out = layer(x, attention_mask=additive)
        out = out[0] if isinstance(out, tuple) else out
    goldens[name] = {"params": state(layer), "ffn_dim": 3 * E, "y": arr(out)}

# The original's PositionalEncodding table, restated: pe[:, 0::2] = sin(p * w), pe[:, 1::2] = cos(p * w).
length, dim = 64, 24
pe = torch.zeros(length, dim)
position = torch.arange(0, length).unsqueeze(1)
div_term = torch.exp(torch.arange(0, dim, 2) * -(math.log(10000.0) / dim))
pe[:, 0::2] = torch.sin(position * div_term)
pe[:, 1::2] = torch.cos(position * div_term)
goldens["sinusoidal"] = arr(pe)

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(goldens))
print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")
