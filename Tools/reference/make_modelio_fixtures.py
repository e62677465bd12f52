#!/usr/bin/env python3
"""Writes the small ModelIO test fixtures (Tests/ModelIOTests/Fixtures) with real PyTorch,
safetensors and transformers, plus `expected.json`: every tensor's dtype, shape and raw bit
patterns in contiguous (row-major) order, so the Swift readers can be checked bit-exactly.

Not run by CI. Regenerate with:
    python Tools/reference/make_modelio_fixtures.py [OUT_DIR]
(needs torch, safetensors, transformers; the output is deterministic apart from zip timestamps).
"""
import collections
import json
import os
import pickle
import shutil
import sys

import torch
from safetensors.torch import save_file

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "Tests", "ModelIOTests", "Fixtures")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)

DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
               torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
               torch.uint8: "U8", torch.bool: "BOOL"}


def describe(t):
    """dtype, shape and values of a tensor in row-major order; floats as raw bit patterns."""
    t = t.detach().contiguous()
    d = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape)}
    flat = t.reshape(-1)
    if t.dtype == torch.float32:
        d["bits"] = flat.view(torch.int32).tolist()
        d["bits"] = [b & 0xFFFFFFFF for b in d["bits"]]
    elif t.dtype in (torch.float16, torch.bfloat16):
        d["bits"] = [b & 0xFFFF for b in flat.view(torch.int16).tolist()]
    elif t.dtype == torch.float64:
        d["bits"] = [b & 0xFFFFFFFFFFFFFFFF for b in flat.view(torch.int64).tolist()]
    elif t.dtype == torch.bool:
        d["values"] = [bool(x) for x in flat.tolist()]
    else:
        d["values"] = flat.tolist()
    return d


expected = {}

# 1. An mmengine-style checkpoint: {'meta', 'state_dict', 'message_hub', 'optimizer'}.
class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_token = torch.nn.Embedding(10, 8, padding_idx=1)
        self.lnorm = torch.nn.LayerNorm(8)


sd = Tiny().state_dict()  # an OrderedDict with a `_metadata` attribute, like every real one
sd["encoder.lnorm_half.weight"] = torch.randn(8).half()
sd["decoder.fc.weight"] = torch.randn(6, 4).bfloat16()
sd["step_counter"] = torch.tensor([1, -2, 3_000_000_000_000], dtype=torch.int64)
sd["int32_tensor"] = torch.tensor([7, -8, 9, 2**31 - 1], dtype=torch.int32)
sd["mask"] = torch.tensor([[True, False, True], [False, False, True]])
sd["scalar"] = torch.tensor(3.25)
# Non-contiguous: a transpose (strides (1, 24)) and a strided slice (step 2).
base = torch.randn(8, 24)
sd["encoder.encoder.layers.0.self_attn.in_proj_weight"] = base.t()
sd["strided_slice"] = torch.randn(4, 6)[:, ::2]
# A view with a storage offset into a larger storage.
big = torch.randn(40)
sd["encoder.encoder.layers.0.self_attn.in_proj_bias"] = big[5:29]
# Two tensors sharing one storage (as tied weights do).
shared = torch.arange(12, dtype=torch.float32)
sd["shared.a"] = shared.view(3, 4)
sd["shared.b"] = shared.view(3, 4)[1:]
sd["special_values"] = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-45, 3.4e38])
sd["bf16_transposed"] = torch.randn(3, 5).bfloat16().t()
ckpt = {
    "meta": {"mmengine_version": "0.10.4", "iter": 5000, "epoch": 0, "seed": 42,
             "experiment_name": "svae_768_h1", "time": "20240801_120000",
             "hook_msgs": {"best_score": 12.5, "last_ckpt": "work_dirs/iter_5000.pth"},
             "misc": [True, False, None, 1.5, -7, (1, 2, "three"), b"bytes", 2**70]},
    "state_dict": sd,
    "message_hub": {"log_scalars": {}, "runtime_info": {"iter": 5000}, "resumed_keys": {"iter": True}},
    "optimizer": {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.zeros(2)}},
                  "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999), "params": [0]}]},
}
torch.save(ckpt, os.path.join(OUT, "mmengine_style.pth"))
expected["mmengine_style.pth"] = {k: describe(v) for k, v in sd.items()}

# 2. A safetensors file with every common dtype and metadata.
st = collections.OrderedDict()
st["f32"] = torch.randn(3, 4)
st["f16"] = torch.randn(5).half()
st["bf16"] = torch.randn(2, 3).bfloat16()
st["f64"] = torch.randn(2).double()
st["i64"] = torch.tensor([1, -1, 2**40])
st["i32"] = torch.tensor([1, -1, 2**30], dtype=torch.int32)
st["i8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
st["u8"] = torch.tensor([0, 255], dtype=torch.uint8)
st["bool"] = torch.tensor([True, False])
st["scalar"] = torch.tensor(2.5)
st["empty"] = torch.zeros(0, 3)
save_file(dict(st), os.path.join(OUT, "tensors.safetensors"), metadata={"format": "pt", "note": "fixture"})
expected["tensors.safetensors"] = {k: describe(v) for k, v in st.items()}

# 3. Tiny HF OPT directories: safetensors, pytorch_model.bin, and sharded safetensors.
from transformers import OPTConfig, OPTForCausalLM

cfg = OPTConfig(vocab_size=64, hidden_size=16, ffn_dim=32, num_attention_heads=2, num_hidden_layers=2,
                max_position_embeddings=32, word_embed_proj_dim=16, do_layer_norm_before=True,
                pad_token_id=1, bos_token_id=2, eos_token_id=2, dropout=0.1)
model = OPTForCausalLM(cfg).eval()
def fresh_dir(name):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cfg.to_json_file(os.path.join(d, "config.json"))
    return d


d = fresh_dir("opt-tiny")
model.save_pretrained(d, safe_serialization=True)
d = fresh_dir("opt-tiny-sharded")
model.save_pretrained(d, safe_serialization=True, max_shard_size="8KB")
for dd in ("opt-tiny", "opt-tiny-sharded"):
    p = os.path.join(OUT, dd, "generation_config.json")
    if os.path.exists(p):
        os.remove(p)
# transformers 5 no longer writes .bin files; write them the way older versions did:
# torch.save(state_dict) (lm_head.weight shares its storage with embed_tokens.weight) ...
sd_opt = model.state_dict()
torch.save(sd_opt, os.path.join(fresh_dir("opt-tiny-bin"), "pytorch_model.bin"))
# ... and a two-shard .bin with the names facebook/opt-* use on the hub (no "model." prefix).
d = fresh_dir("opt-tiny-bin-sharded")
names = [k for k in sd_opt if k.startswith("model.")]
half = len(names) // 2
weight_map = {}
for i, part in enumerate([names[:half], names[half:]]):
    fname = f"pytorch_model-0000{i + 1}-of-00002.bin"
    torch.save(collections.OrderedDict((k[len("model."):], sd_opt[k]) for k in part), os.path.join(d, fname))
    weight_map.update({k[len("model."):]: fname for k in part})
with open(os.path.join(d, "pytorch_model.bin.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": 4 * sum(sd_opt[k].numel() for k in names)}, "weight_map": weight_map}, f, indent=2)
expected["opt-tiny"] = {k: describe(v) for k, v in model.state_dict().items()}
# A 350m-style config (post-LN, project_in/out) to check config parsing only.
cfg350 = OPTConfig(vocab_size=64, hidden_size=16, ffn_dim=32, num_attention_heads=2, num_hidden_layers=2,
                   max_position_embeddings=32, word_embed_proj_dim=8, do_layer_norm_before=False)
cfg350.to_json_file(os.path.join(OUT, "opt-350m-style-config.json"))

# 4. Hostile files: a pickle and a .pth that ask for os.system; a legacy (non-zip) torch file.
class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


with open(os.path.join(OUT, "malicious.pkl"), "wb") as f:
    pickle.dump({"state_dict": Evil()}, f, protocol=2)
torch.save({"state_dict": {"w": torch.zeros(2)}, "evil": Evil()}, os.path.join(OUT, "malicious.pth"))
torch.save({"w": torch.zeros(2)}, os.path.join(OUT, "legacy_format.pth"), _use_new_zipfile_serialization=False)

# A .pth whose entries were re-zipped with compression (torch never does this): a clear error.
import zipfile
with zipfile.ZipFile(os.path.join(OUT, "malicious.pth")) as src, \
        zipfile.ZipFile(os.path.join(OUT, "deflated.pth"), "w", zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        dst.writestr(info.filename.replace("malicious", "deflated"), src.read(info))

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=0)
print("wrote fixtures to", os.path.abspath(OUT))
