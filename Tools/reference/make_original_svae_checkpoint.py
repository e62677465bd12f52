#!/usr/bin/env python3
"""Writes `original_svae_tiny.pth`: a checkpoint with exactly the structure the original
SentenceVAE's training writes, made with the original model code and mmengine's own checkpoint
machinery (MessageHub with HistoryBuffers, AdamW state, LR-scheduler state, meta), at tiny sizes.
Also records every state_dict tensor in `original_svae_tiny.json` for bit-exact tests.

Not run by CI. Needs torch, mmengine (`pip install mmengine`) and the original repository
(BestAnHongjun/SentenceVAE) on PYTHONPATH, e.g.
    git clone https://github.com/BestAnHongjun/SentenceVAE /tmp/svae-orig
    PYTHONPATH=/tmp/svae-orig python Tools/reference/make_original_svae_checkpoint.py
"""
import json
import os
import sys
import time

import torch
import mmengine
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR
from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu

from sentence_vae.models import SentenceVAE



def describe(t):
    """dtype, shape and raw bits in row-major order (the format of make_modelio_fixtures.py)."""
    t = t.detach().contiguous()
    assert t.dtype == torch.float32, t.dtype
    return {"dtype": "F32", "shape": list(t.shape),
            "bits": [b & 0xFFFFFFFF for b in t.reshape(-1).view(torch.int32).tolist()]}


OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "Tests", "ModelIOTests", "Fixtures")
torch.manual_seed(0)

# svae_768_h2 with OPT-125m's sizes shrunk: hidden 768 → 8, heads 12 → 2, vocab 50272 → 32.
model = SentenceVAE(hidden_size=8, vocab_size=32, device=torch.device("cpu"), dtype=torch.float32,
                    learnable_add=True, load_ref_model=False, num_attention_heads=2, num_hidden_layers=2,
                    max_seq_len=8, dropout=0.1, bos_id=2, pad_id=1, end_id=2)
optimizer = torch.optim.AdamW(model.parameters(), lr=128 * 1e-7, weight_decay=0.01)
wrapper = OptimWrapper(optimizer, clip_grad=dict(max_norm=1.0))
schedulers = [LinearLR(optimizer, start_factor=1e-3, by_epoch=False, begin=0, end=5),
              CosineAnnealingLR(optimizer, by_epoch=False, T_max=20)]
hub = MessageHub.get_current_instance()
for it in range(3):  # a few real training steps so optimizer/scheduler/log state exist
    ids = torch.randint(3, 32, (2, 6))
    mask = torch.ones_like(ids)
    out = model(ids, mask, mode="loss")
    loss = sum(v for v in out.values())
    wrapper.update_params(loss)
    for s in schedulers:
        s.step()
    hub.update_scalar("train/loss", float(loss))
    hub.update_scalar("train/lr", optimizer.param_groups[0]["lr"])
hub.update_info("iter", 3)

checkpoint = {
    "meta": dict(cfg="# svae_768_h2 (tiny)\n", seed=42, experiment_name="svae_768_h2_tiny",
                 time=time.strftime("%Y%m%d_%H%M%S"), mmengine_version=mmengine.__version__, epoch=0, iter=3),
    "state_dict": weights_to_cpu(model.state_dict()),
    "message_hub": hub.state_dict(),
    "optimizer": wrapper.state_dict(),
    "param_schedulers": [s.state_dict() for s in schedulers],
}
path = os.path.join(OUT, "original_svae_tiny.pth")
save_checkpoint(checkpoint, path)
with open(os.path.join(OUT, "original_svae_tiny.json"), "w") as f:
    json.dump({k: describe(v) for k, v in checkpoint["state_dict"].items()}, f, indent=0)
print("wrote", os.path.abspath(path))
for k, v in checkpoint["state_dict"].items():
    print(f"  {k} {list(v.shape)}")
