#!/usr/bin/env python3
"""Golden values for TensorCore's forward semantics, computed by PyTorch (CPU, fp32).

Writes Tests/TensorCoreTests/Fixtures/tensorcore_goldens.json. Inputs are drawn from a fixed
NumPy seed and stored in the file, so the Swift tests feed exactly the same numbers.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch numpy
    /tmp/venv/bin/python Tools/reference/make_tensorcore_goldens.py
"""
import json
import pathlib

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(1234)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/TensorCoreTests/Fixtures/tensorcore_goldens.json"


def t(shape, scale=1.0):
    return torch.tensor(rng.standard_normal(shape).astype(np.float32) * scale)


def flat(x):
    # JSON has no infinities: masked entries (-inf) are written as the string "-inf".
    return [float(v) if v != float("-inf") else "-inf" for v in x.detach().reshape(-1).tolist()]


def case(**kw):
    return {k: (flat(v) if isinstance(v, torch.Tensor) and v.dtype == torch.float32 else
                [int(i) for i in v.reshape(-1).tolist()] if isinstance(v, torch.Tensor) else v)
            for k, v in kw.items()}


goldens = {}

# Softmax / log-softmax along the last axis; boolean mask True = excluded (key_padding_mask style),
# broadcast [B, 1, T] over [B, H, T]. Every row keeps at least one element (PyTorch gives NaN otherwise).
x = t((3, 4, 7), 2.0)
mask = torch.zeros(3, 1, 7, dtype=torch.bool)
mask[0, 0, 5:] = True
mask[1, 0, 1:6] = True
mask[2, 0, 0] = True
goldens["softmax"] = case(shape=[3, 4, 7], x=x, y=torch.softmax(x, -1), log_y=torch.log_softmax(x, -1))
masked = x.masked_fill(mask, float("-inf"))
goldens["softmax_bool_mask"] = case(shape=[3, 4, 7], mask_shape=[3, 1, 7], x=x, mask=mask.to(torch.int64),
                                    y=torch.softmax(masked, -1), log_y=torch.log_softmax(masked, -1))
add = t((4, 7), 0.5)
add[1, 3] = float("-inf")
add[2, :6] = float("-inf")
goldens["softmax_additive_mask"] = case(shape=[3, 4, 7], mask_shape=[4, 7], x=x, mask=add,
                                        y=torch.softmax(x + add, -1))
wide = t((2, 4099), 3.0)  # long rows: the 16-lane path plus a tail
goldens["softmax_long"] = case(shape=[2, 4099], x=wide, y=torch.softmax(wide, -1), log_y=torch.log_softmax(wide, -1))

# LayerNorm (affine, eps 1e-5) and without affine (eps 1e-3); gradients of sum(y * w).
xl = t((5, 33), 3.0).add_(1.5).requires_grad_()
gamma = t((33,)).requires_grad_()
beta = t((33,)).requires_grad_()
w = t((5, 33))
y = F.layer_norm(xl, (33,), gamma, beta, eps=1e-5)
(y * w).sum().backward()
goldens["layer_norm"] = case(shape=[5, 33], x=xl, weight=gamma, bias=beta, eps=1e-5, y=y, upstream=w,
                             grad_x=xl.grad, grad_weight=gamma.grad, grad_bias=beta.grad)
y2 = F.layer_norm(xl.detach(), (33,), eps=1e-3)
goldens["layer_norm_plain"] = case(shape=[5, 33], x=xl, eps=1e-3, y=y2)

# GELU, exact erf form, including the far tails.
xg = torch.linspace(-9, 9, 181, dtype=torch.float32)
# PyTorch's fp32 kernel loses relative precision in the negative tail (1 + erf cancels), so the
# float64 result is stored too: the Swift test asks to be at least as close to it as PyTorch is.
goldens["gelu"] = case(x=xg, y=F.gelu(xg), y64=[float(v) for v in F.gelu(xg.double()).tolist()])

# Cross-entropy with ignored rows (ignore_index), mean over kept rows; gradient too.
logits = t((6, 11), 2.0).requires_grad_()
targets = torch.tensor([3, 0, -100, 10, 7, -100])
loss = F.cross_entropy(logits, targets, ignore_index=-100)
loss.backward()
goldens["cross_entropy"] = case(shape=[6, 11], logits=logits, targets=targets, loss=float(loss.detach()),
                                grad=logits.grad)

# The original's focal loss (sentence_vae/models/focal_loss.py): gamma 2, eps 1e-6, mean:
# p_t = softmax(logits)[target];  loss = mean(-(1 - p_t)^gamma * log(p_t + eps)).
logits2 = t((7, 13), 2.0)
logits2[2, 5] = 9.0  # a confident, correct row (p_t near 1) exercises the (1 - p)^gamma factor
logits2.requires_grad_()
targets2 = torch.tensor([1, 12, 5, 0, 4, 4, 9])
p_t = torch.softmax(logits2, -1).gather(-1, targets2[:, None])[:, 0]
focal = (-(1 - p_t) ** 2.0 * torch.log(p_t + 1e-6)).mean()
focal.backward()
goldens["focal_loss"] = case(shape=[7, 13], logits=logits2, targets=targets2, loss=float(focal.detach()),
                             grad=logits2.grad)

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(goldens))
print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")
