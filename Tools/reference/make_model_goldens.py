#!/usr/bin/env python3
"""Golden outputs of the ORIGINAL SentenceVAE modules and HF OPT, random weights, tiny sizes.

Builds the original's SentenceEncoder / SentenceDecoder / SentenceVAE / SentenceLLM from a checkout
of https://github.com/BestAnHongjun/SentenceVAE (its code is imported, not copied) and HF
`OPTForCausalLM`, gives every parameter random values, and records, in fp32 eval mode:

  - encoder vectors of a right-padded batch (plain-sum pooling, learnable-add pooling, project_in)
  - decoder logits for that batch given one memory vector per row, and greedy decodes
  - OPT logits for a padded batch: 125m/1.3b shape (pre-LN, final LayerNorm) and 350m shape
    (post-LN, word_embed_proj_dim != hidden, project_in/project_out)
  - SLLM per-sentence hidden states and stop logits for one passage, with a causal mask over
    sentences (DESIGN.md section 2.4: the original's maskless call is not reproduced)

Writes Tests/SentenceModelsTests/Fixtures/model_goldens.json.

    pip install torch transformers accelerate mmengine numpy
    git clone https://github.com/BestAnHongjun/SentenceVAE /tmp/SentenceVAE
    python Tools/reference/make_model_goldens.py /tmp/SentenceVAE
"""
import json
import pathlib
import sys
import tempfile

import torch
from transformers import OPTConfig, OPTForCausalLM

sys.path.insert(0, sys.argv[1])
from sentence_vae.models import SentenceDecoder, SentenceEncoder  # noqa: E402

torch.manual_seed(0)
torch.backends.mha.set_fastpath_enabled(False)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/SentenceModelsTests/Fixtures/model_goldens.json"
CPU, F32 = torch.device("cpu"), torch.float32
V, E, H = 64, 16, 4


def randomize(module, scale=0.3):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.randn_like(p) * scale)
            if "norm" in name and name.endswith("weight"):
                p.add_(1.0)
    return module.eval()


def state(module, drop=()):
    return {k: {"shape": list(v.shape), "values": v.reshape(-1).tolist()}
            for k, v in module.state_dict().items() if k not in drop}


def arr(x):
    return {"shape": list(x.shape), "values": x.detach().reshape(-1).tolist()}


# A right-padded batch of "sentences": BOS (2) first, like the OPT tokenizer.
lengths = [6, 3, 5]
T = max(lengths)
ids = torch.full((3, T), 1)
for b, n in enumerate(lengths):
    ids[b, 0] = 2
    ids[b, 1:n] = torch.randint(3, V, (n - 1,))
mask = torch.tensor([[1 if t < n else 0 for t in range(T)] for n in lengths])
goldens = {"ids": ids.reshape(-1).tolist(), "mask": mask.reshape(-1).tolist(), "batch": 3, "length": T}


def sizes(layers, learnable_add, proj):
    return dict(hidden_size=E, vocab_size=V, device=CPU, dtype=F32, num_attention_heads=H,
                num_hidden_layers=layers, max_seq_len=32, word_embed_proj_dim=proj, pad_id=1)


for name, layers, la, proj in [("plain_sum", 2, False, None), ("learnable_add", 1, True, None), ("project_in", 1, False, 8)]:
    enc = randomize(SentenceEncoder(learnable_add=la, **sizes(layers, la, proj)))
    dec = randomize(SentenceDecoder(**sizes(layers, la, proj)))
    with torch.no_grad():
        vectors = enc(ids, mask)                      # [B, 1, E]
        logits = dec(ids, vectors, mask)              # [B, T, V]
        greedy = []
        for b in range(3):                            # greedy decode from each vector, 12 tokens, no EOS stop
            out = torch.tensor([[2]])
            for _ in range(12):
                nxt = dec(out, vectors[b:b + 1])[:, -1].argmax(-1, keepdim=True)
                out = torch.cat([out, nxt], dim=1)
            greedy.append(out[0, 1:].tolist())
    goldens[name] = {"layers": layers, "learnable_add": la, "word_embed_proj_dim": proj or E,
                     "encoder": state(enc), "decoder": state(dec),
                     "vectors": arr(vectors[:, 0]), "logits": arr(logits), "greedy": greedy}

for name, before, proj in [("opt_pre_ln", True, E), ("opt_post_ln", False, 8)]:
    config = OPTConfig(vocab_size=V, hidden_size=E, ffn_dim=3 * E, num_attention_heads=H, num_hidden_layers=2,
                       max_position_embeddings=40, word_embed_proj_dim=proj, do_layer_norm_before=before,
                       attn_implementation="eager", dropout=0.0, attention_dropout=0.0,
                       pad_token_id=1, bos_token_id=2, eos_token_id=2)
    opt = randomize(OPTForCausalLM(config), scale=0.2)
    with torch.no_grad():
        logits = opt(input_ids=ids, attention_mask=mask).logits
        seq = ids[:1, :lengths[0]]
        for _ in range(8):                            # plain argmax loop: no EOS stop, no logits processors
            seq = torch.cat([seq, opt(input_ids=seq).logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        greedy = seq[0, lengths[0]:].tolist()
    goldens[name] = {"config": {"ffn_dim": 3 * E, "layers": 2, "max_positions": 40, "word_embed_proj_dim": proj,
                                "layer_norm_before": before},
                     "params": state(opt, drop=("lm_head.weight",)), "logits": arr(logits), "greedy": greedy}

# SentenceLLM at the tiny shape: SVAE (plain sum, 1 layer) + 2 pre-LN OPT layers + stop head.
# Built from the same pieces the original SentenceLLM holds (svae, llm_pe, llm_layers, fc), run
# with an explicit causal mask over sentences.
from sentence_vae.models import SentenceLLM  # noqa: E402
config = OPTConfig(vocab_size=V, hidden_size=E, ffn_dim=3 * E, num_attention_heads=H, num_hidden_layers=2,
                   max_position_embeddings=40, do_layer_norm_before=True, attn_implementation="eager",
                   pad_token_id=1, bos_token_id=2, eos_token_id=2)
with tempfile.TemporaryDirectory() as opt_dir:
    OPTForCausalLM(config).save_pretrained(opt_dir)
    sllm = SentenceLLM(svae_hidden_size=E, svae_vocab_size=V, svae_learnable_add=False, svae_num_attention_heads=H,
                       svae_num_hidden_layers=1, llm_ref_model_dir=opt_dir, llm_ref_model_dtype=F32,
                       max_sentence_len=32, device=CPU, dtype=F32)
randomize(sllm, scale=0.2)
with torch.no_grad():
    S = 3
    vectors = sllm.svae.encoder(ids, mask).view(1, S, E)
    positions = sllm.llm_pe(torch.ones(1, S, dtype=torch.long), 0)
    h = vectors + positions
    causal = torch.zeros(1, 1, S, S).masked_fill(~torch.ones(S, S, dtype=torch.bool).tril(), torch.finfo(F32).min)
    for layer in sllm.llm_layers:
        h = layer(h, attention_mask=causal)
        h = h[0] if isinstance(h, tuple) else h
    stop = sllm.fc(h)
goldens["sllm"] = {"params": state(sllm), "hidden": arr(h[0]), "stop_logits": arr(stop[0])}

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(goldens))
print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")
