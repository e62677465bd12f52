#!/usr/bin/env python3
"""Golden training steps (loss, gradients, clipped AdamW updates) for the SVAE, OPT and SLLM trainers.

What it makes
-------------
Tests/TrainingTests/Fixtures/train_step_svae.safetensors   the ORIGINAL SentenceVAE (sentence_vae.models)
Tests/TrainingTests/Fixtures/train_step_opt.safetensors    HF OPTForCausalLM (pre-LN, tied LM head)
Tests/TrainingTests/Fixtures/train_step_sllm.safetensors   the ORIGINAL SentenceLLM's modules (svae, llm_pe,
                                                           llm_layers, fc) with a CAUSAL mask over sentences

Each model is tiny (hidden 16, 2 heads, vocab 64, pad 1, bos = eos = 2), fp32, dropout 0 (the modules
run in train() mode, which with dropout 0 only matters for PyTorch's MHA fast path, disabled here),
and every parameter is randomised as make_model_goldens.py does (N(0, scale^2), LayerNorm weights
1 + N(0, scale^2)). Then, on ONE fixed right-padded batch, two optimizer steps:

    step k (k = 1, 2):  zero_grad; loss = LOSS(batch); loss.backward()
                        total_norm_k = torch.nn.utils.clip_grad_norm_(params, 1.0)   # norm BEFORE clipping
                        torch.optim.AdamW(params, lr=LR, betas=(0.9, 0.999), eps=1e-8,
                                          weight_decay=0.01).step()                  # one optimizer, 2 steps

Every parameter is decayed (biases, LayerNorms and embeddings too), as the original trains. Step 2
covers Adam's bias correction at t = 2. The first total norm is > 1 in all three, so clipping engages.

Loss definitions (OUR definitions; the Swift trainers compute exactly these)
---------------------------------------------------------------------------
focal(z, y) = -(1 - p_y)^2 * log(p_y + 1e-6), p = softmax(z): the original FocalLoss (gamma 2, eps 1e-6).

* svae: the original `SentenceVAE.forward(ids, mask, mode='loss')['total_loss']`: decoder fed the
  whole padded batch (memory = the encoder's sentence vector), targets = each row shifted left with
  EOS (2) written after its last real token, focal loss averaged over the batch's REAL tokens.
  The script checks this equals that definition computed independently (the Swift `SentenceVAE.loss`).
* opt: HF `OPTForCausalLM(input_ids, attention_mask, labels)` with labels = input_ids and padding set
  to -100: mean cross-entropy over the predicted real tokens (position t predicts t + 1, so a row of
  n real tokens contributes n - 1 predictions). Checked against a hand-shifted cross-entropy.
* sllm, per batch of passages (each passage is its own [sentences, tokens] right-padded batch):
    - per passage: sentence vectors = svae.encoder(ids, mask); h = vectors + llm_pe(positions 2..S+1);
      OPT decoder layers with an explicit causal mask over sentences (eager attention); stop logits = fc(h).
    - stop   = focal loss of the stop logits over ALL sentence positions of ALL passages together
               (target 1 for every sentence but the last of its passage, 0 for the last), mean over them.
    - decode = focal loss of svae.decoder decoding sentence i+1 (its ids, key-padding mask = ITS OWN
               mask) from memory h_i, targets = sentence i+1 shifted left with EOS after its last real
               token, over all real tokens of sentences 2..n of all passages together, mean over them.
    - loss = stop + decode.
  Where this departs from the original `SentenceLLM.forward`:
    (a) the original masks the decoded sentences with `tok_mask[b, :sen_len-1]`, i.e. sentence i+1 is
        decoded with sentence i's mask and gets its EOS target at sentence i's length. That is an
        off-by-one bug (the tail of a longer next sentence is never trained, padding of a shorter one
        is trained as target); we use each sentence's own mask.
    (b) the original averages per-passage means (stop and decode) over the batch and drops the stop
        term when it is < 0.01; we take token/position-weighted means over the whole batch and never
        drop a term, so gradient accumulation over micro-batches can equal one big batch.
  For the record the script also evaluates the original forward (its OPT layers wrapped with the causal
  mask, as make_tiny_checkpoints.py does for transformers 5.x) on the same passages collated into one
  padded [2, 3, T] batch: metadata `original_forward` (not a training target).

Fixture layout (safetensors; float32 parameters/gradients, int64 ids/masks)
---------------------------------------------------------------------------
  inputs   svae, opt: `input_ids`, `attention_mask` [batch, tokens]
           sllm: `passage0.ids`, `passage0.mask` [3, T0]; `passage1.ids`, `passage1.mask` [2, T1]
  param.<name>   initial value of every parameter (after randomisation)
  grad1.<name>   raw gradient of step 1 (before clipping)
  after1.<name>  value after optimizer step 1
  after2.<name>  value after optimizer step 2
  <name> is exactly the module's state_dict() name (svae: `encoder.…`/`decoder.…`; opt: `model.decoder.…`
  without the tied `lm_head.weight`, whose gradient is part of `model.decoder.embed_tokens.weight`;
  sllm: `svae.…`, `llm_pe.weight`, `llm_layers.N.…`, `fc.…`).
  __metadata__: every value is a JSON text. Keys:
    loss1, loss2            the loss (see above) at the initial weights / after step 1 (for the SLLM
                            loss2 > loss1: lr 1e-2 on a random net overshoots the stop head; these
                            fixtures pin arithmetic, not progress)
    total_norm1, total_norm2  clip_grad_norm_'s return value (L2 norm of all gradients, before clipping)
    lr, weight_decay, betas, eps, max_norm
    sizes                   {"hidden", "heads", "vocab", "layers", "ffn", "max_seq_len" | "max_positions", ...}
    tokens                  svae: real tokens the loss averages over; opt: predicted tokens
    cross_entropy1          svae: mean CE over the same tokens at the initial weights (PPL = exp of it)
    sllm only: stop1, decode1, stop2, decode2 (the two parts), stop_positions, decode_tokens,
               decode_cross_entropy1, passages (per passage at the initial weights: sentences, stop
               (mean over its positions), decode (mean over its tokens), decode_tokens),
               original_forward ({"stop_loss", "decode_loss"} of the original forward, initial weights)
  Note: nn.Embedding(padding_idx=1) gives the pad row (id 1) no gradient from the lookup; AdamW still
  decays it. No real token in these batches is 1, so in svae/sllm the pad rows' gradients are 0
  (padded positions are masked out everywhere). In opt the pad row's gradient is NOT 0: the tied LM
  head gives it the gradient of the class-1 logit.

How to run
----------
    pip install torch transformers accelerate mmengine safetensors
    git clone https://github.com/BestAnHongjun/SentenceVAE /tmp/SentenceVAE
    python Tools/reference/make_training_goldens.py /tmp/SentenceVAE
Made with torch 2.15, transformers 5.24, mmengine 0.10.7; one thread, seeded, CPU; a rerun reproduces
the files with the same versions.
"""
import json
import pathlib
import sys
import tempfile

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from transformers import OPTConfig, OPTForCausalLM

if len(sys.argv) != 2:
    sys.exit(__doc__)
sys.path.insert(0, sys.argv[1])
from sentence_vae.models import FocalLoss, SentenceLLM, SentenceVAE  # noqa: E402

torch.set_num_threads(1)
torch.backends.mha.set_fastpath_enabled(False)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/TrainingTests/Fixtures"
CPU, F32 = torch.device("cpu"), torch.float32
V, E, H, PAD, BOS, EOS = 64, 16, 2, 1, 2, 2
LR, WD, BETAS, ADAM_EPS, MAX_NORM = 1e-2, 0.01, (0.9, 0.999), 1e-8, 1.0
FOCAL = FocalLoss()


def randomize(module, scale):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.randn_like(p) * scale)
            if "norm" in name and name.endswith("weight"):
                p.add_(1.0)
    return module


def padded_batch(lengths, gen):
    """Right-padded rows: BOS (2) then random ids in [3, V), padding 1."""
    T = max(lengths)
    ids = torch.full((len(lengths), T), PAD, dtype=torch.int64)
    mask = torch.zeros((len(lengths), T), dtype=torch.int64)
    for b, n in enumerate(lengths):
        ids[b, 0] = BOS
        ids[b, 1:n] = torch.randint(3, V, (n - 1,), generator=gen)
        mask[b, :n] = 1
    return ids, mask


def shifted_targets(ids, mask):
    """Each row shifted left, EOS after its last real token (the Swift `SentenceVAE.targets`)."""
    tgt = torch.full_like(ids, PAD)
    tgt[:, :-1] = ids[:, 1:]
    lengths = mask.sum(1)
    tgt[torch.arange(ids.shape[0]), lengths - 1] = EOS
    return tgt


def focal_reference(logits, targets):
    """Independent formula for the check: mean of -(1-p)^2 log(p + 1e-6)."""
    p = torch.softmax(logits.double(), -1).gather(-1, targets[:, None])[:, 0]
    return (-(1 - p) ** 2 * torch.log(p + 1e-6)).mean()


def causal_mask(s):
    return torch.triu(torch.full((s, s), torch.finfo(F32).min), diagonal=1)[None, None]


def train_two_steps(model, loss_fn):
    """Two clipped AdamW steps on one batch. Returns tensors and metadata of both steps."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    out = {f"param.{n}": p.detach().clone() for n, p in named}
    opt = torch.optim.AdamW(params, lr=LR, betas=BETAS, eps=ADAM_EPS, weight_decay=WD)
    meta = {}
    for step in (1, 2):
        opt.zero_grad(set_to_none=True)
        loss, parts = loss_fn()
        loss.backward()
        if step == 1:
            for n, p in named:
                out[f"grad1.{n}"] = (p.grad if p.grad is not None else torch.zeros_like(p)).detach().clone()
        total = torch.nn.utils.clip_grad_norm_(params, MAX_NORM)
        opt.step()
        out.update({f"after{step}.{n}": p.detach().clone() for n, p in named})
        meta[f"loss{step}"] = loss.item()
        meta[f"total_norm{step}"] = total.item()
        meta.update({f"{k}{step}": v for k, v in parts.items()})
    assert meta["total_norm1"] > MAX_NORM, f"first total norm {meta['total_norm1']} does not engage clipping"
    return out, meta


def save_safetensors(path, tensors, metadata):
    """safetensors with a sorted header, so reruns are byte-identical (safetensors' own writer orders
    `__metadata__` at random). Tensors are laid out in name order."""
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, offset = {"__metadata__": dict(sorted(metadata.items()))}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))
    back = load_file(str(path))
    assert set(back) == set(tensors) and all(torch.equal(back[k], tensors[k]) for k in tensors)


def write(name, tensors, meta):
    meta = dict(meta, lr=LR, weight_decay=WD, betas=list(BETAS), eps=ADAM_EPS, max_norm=MAX_NORM)
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    for k, v in tensors.items():
        assert v.dtype in (torch.float32, torch.int64), (k, v.dtype)
    path = OUT / f"train_step_{name}.safetensors"
    save_safetensors(path, tensors, {k: json.dumps(v) for k, v in meta.items()})
    moved = max((tensors[k.replace("param.", "after2.")] - v).abs().max().item()
                for k, v in tensors.items() if k.startswith("param."))
    print(f"{path.name}: {path.stat().st_size // 1024} KB, {sum(k.startswith('param.') for k in tensors)} params, "
          f"loss {meta['loss1']:.6f} -> {meta['loss2']:.6f}, total norm {meta['total_norm1']:.4f} -> "
          f"{meta['total_norm2']:.4f}, max |after2 - param| {moved:.4g}")


def svae_golden():
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(11)
    model = SentenceVAE(hidden_size=E, vocab_size=V, device=CPU, dtype=F32, learnable_add=False,
                        num_attention_heads=H, num_hidden_layers=2, max_seq_len=16, dropout=0.0,
                        bos_id=BOS, pad_id=PAD, end_id=EOS)
    randomize(model, 0.3).train()
    ids, mask = padded_batch([7, 3, 5, 9], gen)

    def loss_fn():
        loss = model(ids, mask, mode="loss")["total_loss"]
        with torch.no_grad():   # the definition, computed independently
            logits = model(ids, mask, mode="tensor")
            keep = mask.bool()
            ref = focal_reference(logits[keep], shifted_targets(ids, mask)[keep])
            assert abs(ref.item() - loss.item()) < 1e-5 * max(1, abs(ref.item())), (ref.item(), loss.item())
        return loss, {}

    with torch.no_grad():
        keep = mask.bool()
        ce = F.cross_entropy(model(ids, mask, mode="tensor")[keep], shifted_targets(ids, mask)[keep]).item()
    tensors, meta = train_two_steps(model, loss_fn)
    meta.update(tokens=int(mask.sum()), cross_entropy1=ce,
                sizes={"hidden": E, "heads": H, "vocab": V, "layers": 2, "ffn": 2 * E, "max_seq_len": 16,
                       "learnable_add": False, "pad": PAD, "bos": BOS, "eos": EOS, "dropout": 0.0})
    tensors.update(input_ids=ids, attention_mask=mask)
    write("svae", tensors, meta)


def opt_config(layers):
    return OPTConfig(vocab_size=V, hidden_size=E, ffn_dim=32, num_attention_heads=H, num_hidden_layers=layers,
                     max_position_embeddings=32, word_embed_proj_dim=E, do_layer_norm_before=True,
                     attn_implementation="eager", dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
                     layerdrop=0.0, pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS, enable_bias=True,
                     tie_word_embeddings=True)


def opt_golden():
    torch.manual_seed(2)
    gen = torch.Generator().manual_seed(12)
    model = OPTForCausalLM(opt_config(2)).to(F32)
    assert model.lm_head.weight is model.model.decoder.embed_tokens.weight, "LM head must be tied"
    randomize(model, 0.2).train()
    ids, mask = padded_batch([9, 5, 12], gen)
    labels = ids.masked_fill(mask == 0, -100)

    def loss_fn():
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        with torch.no_grad():
            keep = mask[:, 1:].bool()
            ref = F.cross_entropy(out.logits[:, :-1][keep], ids[:, 1:][keep])
            assert abs(ref.item() - out.loss.item()) < 1e-5 * max(1, abs(ref.item())), (ref.item(), out.loss.item())
        return out.loss, {}

    tensors, meta = train_two_steps(model, loss_fn)
    assert not any(k.endswith("lm_head.weight") for k in tensors)
    assert set(k[len("param."):] for k in tensors if k.startswith("param.")) == \
        set(model.state_dict()) - {"lm_head.weight"}
    meta.update(tokens=int(mask[:, 1:].sum()),
                sizes={"hidden": E, "heads": H, "vocab": V, "layers": 2, "ffn": 32, "max_positions": 32,
                       "word_embed_proj_dim": E, "layer_norm_before": True, "tied_lm_head": True,
                       "pad": PAD, "bos": BOS, "eos": EOS, "dropout": 0.0})
    tensors.update(input_ids=ids, attention_mask=mask)
    write("opt", tensors, meta)


def sllm_golden():
    torch.manual_seed(3)
    gen = torch.Generator().manual_seed(13)
    with tempfile.TemporaryDirectory() as opt_dir:
        OPTForCausalLM(opt_config(2)).to(F32).save_pretrained(opt_dir)
        model = SentenceLLM(svae_hidden_size=E, svae_vocab_size=V, svae_learnable_add=False,
                            svae_num_attention_heads=H, svae_num_hidden_layers=1, llm_ref_model_dir=opt_dir,
                            llm_ref_model_dtype=F32, max_sentence_len=16, max_sentence_num=16, dropout=0.0,
                            bos_id=BOS, pad_id=PAD, end_id=EOS, device=CPU, dtype=F32)
    for layer in model.llm_layers:
        layer.self_attn.config._attn_implementation = "eager"
        assert layer.self_attn.dropout == 0.0 and layer.dropout == 0.0
    randomize(model, 0.2).train()
    passages = [padded_batch([6, 8, 4], gen), padded_batch([5, 7], gen)]

    def run_layers(h):
        m = causal_mask(h.shape[1])
        for layer in model.llm_layers:
            h = layer(h, attention_mask=m)
            h = h[0] if isinstance(h, tuple) else h
        return h

    def passage_terms(ids, mask):
        S = ids.shape[0]
        vectors = model.svae.encoder(ids, mask).view(1, S, E)
        h = run_layers(vectors + model.llm_pe(torch.ones(1, S, dtype=torch.int64), 0))
        stop_logits = model.fc(h)[0]
        stop_targets = torch.tensor([1] * (S - 1) + [0])
        nxt, nmask = ids[1:], mask[1:]
        logits = model.svae.decoder(nxt, h[0, :S - 1].reshape(S - 1, 1, E), nmask)
        keep = nmask.bool()
        return stop_logits, stop_targets, logits[keep], shifted_targets(nxt, nmask)[keep]

    def loss_fn():
        terms = [passage_terms(i, m) for i, m in passages]
        stop = FOCAL(torch.cat([t[0] for t in terms]), torch.cat([t[1] for t in terms]))
        decode = FOCAL(torch.cat([t[2] for t in terms]), torch.cat([t[3] for t in terms]))
        return stop + decode, {"stop": stop.item(), "decode": decode.item()}

    with torch.no_grad():
        per_passage = []
        for ids, mask in passages:
            sl, st, dl, dt = passage_terms(ids, mask)
            per_passage.append({"sentences": ids.shape[0], "stop": FOCAL(sl, st).item(),
                                "decode": FOCAL(dl, dt).item(), "decode_tokens": int(dt.numel())})
        terms = [passage_terms(i, m) for i, m in passages]
        decode_ce = F.cross_entropy(torch.cat([t[2] for t in terms]), torch.cat([t[3] for t in terms])).item()
        original = original_forward(model, passages, run_layers)

    tensors, meta = train_two_steps(model, loss_fn)
    assert abs(meta["stop1"] + meta["decode1"] - meta["loss1"]) < 1e-5
    assert set(k[len("param."):] for k in tensors if k.startswith("param.")) == set(model.state_dict())
    meta.update(stop_positions=sum(p["sentences"] for p in per_passage),
                decode_tokens=sum(p["decode_tokens"] for p in per_passage),
                decode_cross_entropy1=decode_ce, passages=per_passage, original_forward=original,
                sizes={"hidden": E, "heads": H, "vocab": V, "svae_layers": 1, "svae_ffn": 2 * E,
                       "max_sentence_len": 16, "learnable_add": False, "llm_layers": 2, "llm_ffn": 32,
                       "llm_max_positions": 32, "layer_norm_before": True, "causal": True,
                       "pad": PAD, "bos": BOS, "eos": EOS, "dropout": 0.0})
    for i, (ids, mask) in enumerate(passages):
        tensors[f"passage{i}.ids"], tensors[f"passage{i}.mask"] = ids, mask
    write("sllm", tensors, meta)


def original_forward(model, passages, run_layers):
    """The original SentenceLLM.forward(mode='loss') on the passages collated as PassageCollate does
    ([passages, max sentences, max tokens], padded sentences all-pad with a zero mask), its OPT layers
    called through a causal-mask wrapper returning a tuple (transformers 5.x layers return a tensor)."""
    S = max(i.shape[0] for i, _ in passages)
    T = max(i.shape[1] for i, _ in passages)
    toks = torch.full((len(passages), S, T), PAD, dtype=torch.int64)
    tmask = torch.zeros_like(toks)
    smask = torch.zeros((len(passages), S), dtype=torch.int64)
    for b, (ids, mask) in enumerate(passages):
        toks[b, :ids.shape[0], :ids.shape[1]] = ids
        tmask[b, :ids.shape[0], :ids.shape[1]] = mask
        smask[b, :ids.shape[0]] = 1
    saved = model.llm_layers
    try:
        class Wrapped(torch.nn.Module):
            def __init__(self, layer):
                super().__init__()
                self.layer = layer

            def forward(self, h):
                return (run_layers_single(self.layer, h),)

        def run_layers_single(layer, h):
            out = layer(h, attention_mask=causal_mask(h.shape[1]))
            return out[0] if isinstance(out, tuple) else out
        model.llm_layers = torch.nn.ModuleList([Wrapped(layer) for layer in saved])
        out = model(smask, toks, tmask, mode="loss")
    finally:
        model.llm_layers = saved
    return {k: float(v) for k, v in out.items()}


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    svae_golden()
    opt_golden()
    sllm_golden()
