#!/usr/bin/env python3
"""Tiny end-to-end fixtures: a briefly trained SentenceVAE and SentenceLLM, saved as the original saves them.

How to regenerate
-----------------
    pip install torch transformers tokenizers mmengine accelerate pyyaml
    git clone https://github.com/BestAnHongjun/SentenceVAE /tmp/SentenceVAE
    python Tools/reference/make_tiny_checkpoints.py /tmp/SentenceVAE [path/to/botchan.txt]

The second argument is optional: without it the script fetches the corpus with
`pip download --no-binary :all: --no-deps sentencepiece==0.2.0` into a temporary directory.
Everything is written under Tests/SentenceVAECLITests/Fixtures/ (the directory is recreated).
The script imports the ORIGINAL model code (`sentence_vae.models.SentenceVAE`, `SentenceLLM`,
`sentence_vae.data.PassageCollate`) from the checkout; nothing of it is copied here.

Corpus provenance
-----------------
`test/botchan.txt` of the PyPI sdist sentencepiece 0.2.0 (Apache-2.0 package; the text is the
Project Gutenberg eBook #8868, "Botchan (Master Darling)" by Natsume Soseki, translated by Yasotaro
Morri, 1919 -- public domain). sha256 of the file: SHA256_BOTCHAN below. The selected sentences are
written to Fixtures/corpus.txt (one a line); the SLLM passages are consecutive groups of them.

Determinism
-----------
Everything is seeded (torch.manual_seed / random.Random(SEED)) and runs on CPU in fp32 with one
thread, so a rerun with the same torch/transformers/tokenizers versions reproduces the files.
Fixtures were made with torch 2.15, transformers 5.24, tokenizers 0.23, mmengine 0.10.7.

What is produced
----------------
tiny-opt/            HF-style OPT reference dir: byte-level BPE (OPT id layout <s>=0 <pad>=1 </s>=2
                     <unk>=3, tokenizer prepends </s>), config.json (OPTConfig, hidden 32, 4 heads,
                     2 layers, ffn 64, 64 positions), model.safetensors (random init, seeded).
svae-tiny-base.yaml, svae-tiny.yaml     original-style SVAE config (`__base__: !include`)
sllm-tiny-base.yaml, sllm-tiny.yaml     original-style SLLM config
svae-tiny.pth        mmengine-style checkpoint {'meta', 'state_dict', 'message_hub'} of SentenceVAE
sllm-tiny.pth        same for SentenceLLM
svae-expected.json   greedy reconstructions (our capped greedy loop over the ORIGINAL decoder forward)
sllm-expected.json   SLLM generations with the FIXED semantics of DESIGN.md section 2
corpus.txt           the training sentences

Training: SVAE 3000 steps (batch 32, AdamW lr 3e-3 cosine, clip 1.0; final train CE 0.068, PPL 1.071,
190/190 training sentences reconstructed exactly); SLLM 1500 steps (batch 4 passages of 3-6
consecutive corpus sentences, AdamW lr 1e-3), its svae initialised from svae-tiny.pth.

Caveats with transformers 5.x
-----------------------------
* GPT2Tokenizer is tokenizers-backed; `add_bos_token: true` in tokenizer_config.json becomes a
  TemplateProcessing post-processor that prepends </s> (id 2), no EOS: "Hello" -> [2, ...].
* `batch_encode_plus` is gone; PassageCollate gets a shim whose batch_encode_plus is __call__.
* OPTDecoderLayer returns a tensor (not a tuple) and, with no mask, eager attention is bidirectional;
  the original SentenceLLM.forward (`layer(h)[0]`) is used for training with each layer's forward
  shadowed by a causal-mask wrapper that returns a tuple (module names unchanged).
* The original cut keeps the space after a clause with that clause, so in training every clause but
  a passage's last ends in a space token and the stop head learns "no trailing space => stop".

Generation semantics used for the expected outputs (DESIGN.md section 2):
  * sentence decoding: BOS (2) first, argmax, stop after EOS (2, included) or when BOS + generated
    tokens reach max_seq_len positions (the original's cap never fires);
  * SLLM: prompt cut with the original PassageCollate.cut_sentence_func; every sentence encoded as
    the tokenizer encodes it ([2, ...], no EOS) with a real attention mask; OPT learned position
    2+i for sentence i; OPT layers with an explicit causal mask over sentences (eager attention);
    stop head argmax (1 = continue); a generated sentence is re-encoded as [2] + its tokens without
    the trailing EOS; the LLM layers are rerun over the whole sentence sequence (no cache);
    at most 8 generated sentences.
"""

import collections
import glob
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

import torch
import yaml

SEED = 20240801
SHA256_BOTCHAN = "464bd5300c24fce16fcc4555d4231a57632caae4d0090ad6aa92854a3b227ba7"
VOCAB_SIZE = 512
NUM_SENTENCES = 200          # corpus size (after filtering)
MAX_SENTENCE_TOKENS = 24     # including the leading </s>
MAX_SEQ_LEN = 32             # svae max_seq_len == sllm max_sen_len
MAX_SEN_NUM = 16
SVAE_STEPS = 3000
SVAE_BATCH = 32
SVAE_LR = 3e-3
SLLM_STEPS = 1500
SLLM_BATCH = 4
SLLM_LR = 1e-3
SLLM_MAX_NEW_SENTENCES = 8

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(REPO_ROOT, "Tests", "SentenceVAECLITests", "Fixtures")
OPT_DIR = os.path.join(FIX, "tiny-opt")

SPECIAL = {"content": None, "single_word": False, "lstrip": False, "rstrip": False, "normalized": True}


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ----------------------------------------------------------------------------- corpus

def find_botchan(arg):
    if arg:
        return arg
    tmp = tempfile.mkdtemp(prefix="botchan-")
    subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                           "sentencepiece==0.2.0", "-d", tmp])
    with tarfile.open(glob.glob(os.path.join(tmp, "sentencepiece-0.2.0.tar.gz"))[0]) as tf:
        tf.extract("sentencepiece-0.2.0/test/botchan.txt", tmp)
    return os.path.join(tmp, "sentencepiece-0.2.0/test/botchan.txt")


def candidate_sentences(path):
    raw = open(path, "rb").read()
    digest = hashlib.sha256(raw).hexdigest()
    assert digest == SHA256_BOTCHAN, f"unexpected botchan.txt (sha256 {digest})"
    text = raw.decode("utf-8-sig")
    start = text.index("CHAPTER I")
    end = text.index("End of Project Gutenberg")
    body = re.sub(r"\s+", " ", text[start:end])
    body = body.replace("CHAPTER I ", "", 1)
    out = []
    for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", body):
        s = s.strip()
        words = s.split()
        if not (5 <= len(words) <= 20):
            continue
        if not s.isascii() or '"' in s or "CHAPTER" in s or not s[0].isupper() or s[-1] not in ".!?":
            continue
        if re.search(r"\b(Mr|Mrs|St)\.$", s):
            continue
        out.append(s)
    return out


# ----------------------------------------------------------------------------- tiny-opt dir

def build_tokenizer(sentences):
    from tokenizers import ByteLevelBPETokenizer
    tok = ByteLevelBPETokenizer(add_prefix_space=False)
    tok.train_from_iterator(sentences, vocab_size=VOCAB_SIZE, min_frequency=2, show_progress=False,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>"])
    os.makedirs(OPT_DIR, exist_ok=True)
    tok.save_model(OPT_DIR)
    vocab = json.load(open(os.path.join(OPT_DIR, "vocab.json")))
    assert vocab["<s>"] == 0 and vocab["<pad>"] == 1 and vocab["</s>"] == 2 and vocab["<unk>"] == 3
    # Same shapes as facebook/opt-125m (and our Tokenization fixture opt-layout/).
    stm = {k: dict(SPECIAL, content=v) for k, v in
           [("unk_token", "</s>"), ("bos_token", "</s>"), ("eos_token", "</s>"), ("pad_token", "<pad>")]}
    with open(os.path.join(OPT_DIR, "special_tokens_map.json"), "w") as f:
        json.dump(stm, f, indent=2)
        f.write("\n")
    tc = {"errors": "replace"}
    for k, v in stm.items():
        tc[k] = dict(v, __type="AddedToken")
    tc.update({"add_prefix_space": False, "add_bos_token": True, "special_tokens_map_file": None})
    with open(os.path.join(OPT_DIR, "tokenizer_config.json"), "w") as f:
        json.dump(tc, f, indent=2)
        f.write("\n")
    return len(vocab)


def build_opt(vocab_size):
    from transformers import OPTConfig, OPTForCausalLM
    cfg = OPTConfig(vocab_size=vocab_size, hidden_size=32, num_attention_heads=4, ffn_dim=64,
                    num_hidden_layers=2, max_position_embeddings=64, word_embed_proj_dim=32,
                    do_layer_norm_before=True, dropout=0.1, attention_dropout=0.0, activation_dropout=0.0,
                    pad_token_id=1, bos_token_id=2, eos_token_id=2, enable_bias=True,
                    layer_norm_elementwise_affine=True, _remove_final_layer_norm=False, prefix="</s>",
                    architectures=["OPTForCausalLM"])
    torch.manual_seed(SEED)
    model = OPTForCausalLM(cfg).to(torch.float32)
    model.save_pretrained(OPT_DIR, safe_serialization=True)
    cpath = os.path.join(OPT_DIR, "config.json")
    c = json.load(open(cpath))
    c.setdefault("torch_dtype", "float32")   # what the released OPT dirs (transformers 4.x) carry
    c["dtype"] = "float32"
    for k in ("transformers_version",):
        c.pop(k, None)
    with open(cpath, "w") as f:
        json.dump(dict(sorted(c.items())), f, indent=2)
        f.write("\n")
    gc = os.path.join(OPT_DIR, "generation_config.json")
    if os.path.exists(gc):
        os.remove(gc)


# ----------------------------------------------------------------------------- configs

SVAE_BASE = """\
device: "cpu"
dtype: "fp32"
learnable_add: false
load_ref_model: false
ref_model_dir: "tiny-opt"
ref_model_dtype: null
num_hidden_layers: 1
finetune_embedding: true
model_path: null
max_seq_len: 32
batch_size: 32
base_lr: 0.00009375
resume_train: true
dataloader_num_workers: 0
dataloader_prefetch_factor: null
save_checkpoint_iters: 500
max_iters: 3000
warmup_iters: 0
val_iters: 500
cosineannealinglr_tmax: 3000
max_keep_ckpts: 1
"""

SVAE_TOP = """\
__base__: !include ./svae-tiny-base.yaml

ref_model_dir: "tiny-opt"
num_hidden_layers: 1
"""

SLLM_BASE = """\
device: "cpu"
dtype: "fp32"

svae:
  learnable_add: false
  load_ref_model: false
  ref_model_dir: "tiny-opt"
  ref_model_dtype: null
  finetune_embedding: true
  model_path: null

llm:
  ref_model_dir: "tiny-opt"
  ref_model_dtype: null
  finetune_layers: -1

finetune_svae: true
max_sen_len: 32
max_sen_num: 16
batch_size: 4
base_lr: 0.00025
resume_train: true
dataloader_num_workers: 0
dataloader_prefetch_factor: null
save_checkpoint_iters: 500
max_iters: 1500
warmup_iters: 0
val_iters: 500
cosineannealinglr_tmax: 1500
max_keep_ckpts: 1
"""

SLLM_TOP = """\
__base__: !include ./sllm-tiny-base.yaml

svae:
  ref_model_dir: "tiny-opt"
  num_hidden_layers: 1

llm:
  ref_model_dir: "tiny-opt"
  finetune_layers: -1
"""


def load_yaml(path):
    """`__base__: !include` + recursive update, as sentence_vae.utils.load_yaml (without yaml_include)."""
    base_dir = os.path.dirname(os.path.abspath(path))

    class Loader(yaml.SafeLoader):
        pass

    def include(loader, node):
        return load_yaml(os.path.join(base_dir, loader.construct_scalar(node)))

    Loader.add_constructor("!include", include)

    def update(d, u):
        for k, v in u.items():
            d[k] = update(d.get(k, {}), v) if isinstance(v, dict) else v
        return d

    cfg = yaml.load(open(path), Loader=Loader)
    while "__base__" in cfg:
        base = cfg.pop("__base__")
        cfg = update(base, cfg)
    return cfg


def write_configs():
    for name, text in [("svae-tiny-base.yaml", SVAE_BASE), ("svae-tiny.yaml", SVAE_TOP),
                       ("sllm-tiny-base.yaml", SLLM_BASE), ("sllm-tiny.yaml", SLLM_TOP)]:
        with open(os.path.join(FIX, name), "w") as f:
            f.write(text)


# ----------------------------------------------------------------------------- models

def get_tokenizer():
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(OPT_DIR, model_max_length=MAX_SEQ_LEN, padding_side="right")


def make_svae(cfg):
    from transformers import AutoConfig
    from sentence_vae.models import SentenceVAE
    rc = AutoConfig.from_pretrained(OPT_DIR)
    # exactly as tools/demo/demo_svae.py builds it
    return SentenceVAE(
        hidden_size=rc.hidden_size, vocab_size=rc.vocab_size, device=torch.device(cfg["device"]),
        dtype=torch.float32, learnable_add=cfg["learnable_add"], load_ref_model=cfg["load_ref_model"],
        ref_model_dir=OPT_DIR, ref_model_dtype=None, finetune_embedding=cfg["finetune_embedding"],
        num_attention_heads=rc.num_attention_heads, num_hidden_layers=cfg["num_hidden_layers"],
        max_seq_len=cfg["max_seq_len"], dropout=rc.dropout, bos_id=rc.bos_token_id,
        pad_id=rc.pad_token_id, end_id=rc.eos_token_id)


def make_sllm(cfg, svae_model_path=None):
    from transformers import AutoConfig
    from sentence_vae.models import SentenceLLM
    rc = AutoConfig.from_pretrained(OPT_DIR)
    # as tools/demo/demo_sllm.py builds it (ref dirs resolved relative to the config file)
    m = SentenceLLM(
        svae_hidden_size=rc.hidden_size, svae_vocab_size=rc.vocab_size,
        svae_learnable_add=cfg["svae"]["learnable_add"], svae_load_ref_model=cfg["svae"]["load_ref_model"],
        svae_ref_model_dir=OPT_DIR, svae_ref_model_dtype=torch.float32,
        svae_finetune_embedding=cfg["svae"]["finetune_embedding"], svae_word_embed_proj_dim=rc.word_embed_proj_dim,
        svae_num_attention_heads=rc.num_attention_heads, svae_num_hidden_layers=cfg["svae"]["num_hidden_layers"],
        svae_model_path=svae_model_path, llm_ref_model_dir=OPT_DIR, llm_ref_model_dtype=torch.float32,
        llm_finetune_layers=cfg["llm"]["finetune_layers"], finetune_svae=cfg["finetune_svae"],
        max_sentence_len=cfg["max_sen_len"], max_sentence_num=cfg["max_sen_num"], dropout=rc.dropout,
        bos_id=rc.bos_token_id, pad_id=rc.pad_token_id, end_id=rc.eos_token_id,
        device=torch.device(cfg["device"]), dtype=torch.float32)
    for layer in m.llm_layers:
        layer.self_attn.config._attn_implementation = "eager"
    return m


def save_mmengine(model, path, it, extra_meta):
    sd = collections.OrderedDict((k, v.detach().to("cpu", torch.float32).clone()) for k, v in model.state_dict().items())
    ckpt = {
        "meta": dict({"epoch": 0, "iter": it, "seed": SEED, "mmengine_version": "0.10.7",
                      "time": "20240801_000000", "experiment_name": os.path.splitext(os.path.basename(path))[0]},
                     **extra_meta),
        "state_dict": sd,
        "message_hub": {"log_scalars": {}, "runtime_info": {"iter": it, "epoch": 0, "max_iters": it},
                        "resumed_keys": {"iter": True, "epoch": True}},
    }
    torch.save(ckpt, path)


def causal_mask(s):
    m = torch.full((s, s), torch.finfo(torch.float32).min, dtype=torch.float32)
    return torch.triu(m, diagonal=1)[None, None]


def greedy_sentence(decoder, memory, cap):
    """BOS then argmax until EOS (included) or BOS + generated == cap positions."""
    ids = [2]
    while len(ids) < cap:
        logits = decoder(torch.tensor([ids], dtype=torch.long), memory)
        ids.append(int(torch.argmax(logits[0, -1]).item()))
        if ids[-1] == 2:
            break
    return ids[1:]


# ----------------------------------------------------------------------------- SVAE

def train_svae(sentences, tokenizer, cfg):
    torch.manual_seed(SEED)
    model = make_svae(cfg)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=SVAE_LR, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=SVAE_STEPS, eta_min=SVAE_LR * 0.05)
    rng = random.Random(SEED)
    order = []
    for step in range(1, SVAE_STEPS + 1):
        if len(order) < SVAE_BATCH:
            perm = list(range(len(sentences)))
            rng.shuffle(perm)
            order += perm
        batch = [sentences[i] for i in order[:SVAE_BATCH]]
        order = order[SVAE_BATCH:]
        enc = tokenizer(batch, padding=True, truncation=True, max_length=MAX_SEQ_LEN, return_tensors="pt")
        loss = model(enc["input_ids"], enc["attention_mask"])["total_loss"]
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 250 == 0 or step == SVAE_STEPS:
            log(f"svae step {step} focal loss {loss.item():.4f}")
    return model


@torch.no_grad()
def svae_metrics(model, sentences, tokenizer):
    model.eval()
    tot_ce, tot_n = 0.0, 0
    for i in range(0, len(sentences), 64):
        enc = tokenizer(sentences[i:i + 64], padding=True, truncation=True, max_length=MAX_SEQ_LEN, return_tensors="pt")
        out, mask, tgt = model(enc["input_ids"], enc["attention_mask"], mode="predict")
        ce = torch.nn.functional.cross_entropy(out[mask], tgt[:, 1:][mask], reduction="sum")
        tot_ce += ce.item()
        tot_n += int(mask.sum())
    import math
    return tot_ce / tot_n, math.exp(tot_ce / tot_n)


@torch.no_grad()
def svae_reconstruct(model, text, tokenizer):
    # truncation as the original's collates do it (the original encoder cannot take > max_seq_len positions)
    ids = tokenizer.encode(text, truncation=True, max_length=MAX_SEQ_LEN)
    x = torch.tensor([ids], dtype=torch.long)
    emb = model.encoder(x, torch.ones_like(x))
    out = greedy_sentence(model.decoder, emb, MAX_SEQ_LEN)
    return {
        "input": text,
        "input_ids": ids,
        "output_ids": out,
        "output": tokenizer.decode(out, skip_special_tokens=True),
        "output_pieces": [tokenizer.decode([t], skip_special_tokens=True) for t in out],
        "embedding": [float(v) for v in emb.reshape(-1).tolist()],
        "truncated": len(tokenizer.encode(text)) > MAX_SEQ_LEN,
        "capped": out[-1:] != [2],
    }


# ----------------------------------------------------------------------------- SLLM

def sllm_train_forward_patch(model, on):
    """The original SentenceLLM.forward calls `layer(h)[0]` with no mask: transformers 5.x layers return
    a tensor (so [0] would drop the batch axis) and, without a mask, attend bidirectionally. While
    training we shadow each layer's forward with one that applies a causal mask and returns a tuple;
    the modules (and state-dict names) are untouched."""
    for layer in model.llm_layers:
        if on:
            orig = type(layer).forward.__get__(layer)

            def fwd(h, *a, _orig=orig, **kw):
                return (_orig(h, attention_mask=causal_mask(h.shape[1]).to(h.dtype)),)
            layer.forward = fwd
        elif "forward" in layer.__dict__:
            del layer.forward


class BatchEncodeShim:
    """transformers 5.x removed `batch_encode_plus`, which the original PassageCollate calls; it was
    `__call__` on a list of texts."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.pad_token_id = tokenizer.pad_token_id

    def batch_encode_plus(self, texts, **kw):
        return self.tokenizer(texts, **kw)


def make_passages(sentences):
    rng = random.Random(SEED + 1)
    passages, i = [], 0
    while i < len(sentences):
        n = rng.randint(3, 6)
        passages.append(" ".join(sentences[i:i + n]))
        i += n
    return passages


def train_sllm(passages, tokenizer, cfg, svae_path):
    from sentence_vae.data import PassageCollate
    torch.manual_seed(SEED + 2)
    model = make_sllm(cfg, svae_model_path=svae_path)
    collate = PassageCollate(tokenizer=BatchEncodeShim(tokenizer), max_sentence_len=cfg["max_sen_len"],
                             max_sentence_num=cfg["max_sen_num"], padding=True)
    model.train()
    sllm_train_forward_patch(model, True)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=SLLM_LR, weight_decay=0.01)
    rng = random.Random(SEED + 3)
    order = []
    for step in range(1, SLLM_STEPS + 1):
        if len(order) < SLLM_BATCH:
            perm = list(range(len(passages)))
            rng.shuffle(perm)
            order += perm
        batch = [passages[i] for i in order[:SLLM_BATCH]]
        order = order[SLLM_BATCH:]
        sm, st, tm = collate(batch)
        losses = model(sm, st, tm)
        loss = sum(losses.values())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 250 == 0 or step == SLLM_STEPS:
            log(f"sllm step {step} " + " ".join(f"{k} {float(v.detach()):.4f}" for k, v in losses.items()))
    sllm_train_forward_patch(model, False)
    model.eval()
    return model


@torch.no_grad()
def sllm_generate(model, text, tokenizer, cfg):
    from sentence_vae.data import PassageCollate
    collate = PassageCollate(tokenizer=BatchEncodeShim(tokenizer), max_sentence_len=cfg["max_sen_len"],
                             max_sentence_num=cfg["max_sen_num"], padding=True)
    sents, mask = collate.cut_sentence_func(text)
    sents = [s for s, m in zip(sents, mask.tolist()) if m]
    prompt_ids = [tokenizer(s, truncation=True, max_length=cfg["max_sen_len"])["input_ids"] for s in sents]
    assert prompt_ids, "prompt yields no sentence"

    def encode(ids):
        x = torch.tensor([ids], dtype=torch.long)
        return model.svae.encoder(x, torch.ones_like(x)).reshape(-1)

    def run_llm(embs):
        s = len(embs)
        h = torch.stack(embs)[None] + model.llm_pe.weight[2:2 + s][None]
        m = causal_mask(s)
        for layer in model.llm_layers:
            h = layer(h, attention_mask=m)
        return h[:, -1:, :]

    embs = [encode(ids) for ids in prompt_ids]
    h_last = run_llm(embs)
    out, stopped, stop_logits = [], False, []
    while len(out) < SLLM_MAX_NEW_SENTENCES:
        logits = model.fc(h_last).reshape(-1)
        stop_logits.append([float(v) for v in logits.tolist()])
        if int(torch.argmax(logits)) == 0:
            stopped = True
            break
        ids = greedy_sentence(model.svae.decoder, h_last, cfg["max_sen_len"])
        out.append({"ids": ids, "text": tokenizer.decode(ids, skip_special_tokens=True)})
        body = ids[:-1] if ids and ids[-1] == 2 else ids
        embs.append(encode([2] + body))
        h_last = run_llm(embs)
    return {"input": text, "prompt_sentences": sents, "prompt_sentence_ids": prompt_ids,
            "sentences": out, "stopped": stopped, "stop_logits": stop_logits}


# ----------------------------------------------------------------------------- main

def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.path.insert(0, os.path.abspath(sys.argv[1]))
    torch.set_num_threads(1)
    torch.backends.mha.set_fastpath_enabled(False)
    botchan = find_botchan(sys.argv[2] if len(sys.argv) > 2 else None)

    if os.path.isdir(FIX):
        shutil.rmtree(FIX)
    os.makedirs(FIX)

    cands = candidate_sentences(botchan)
    log(f"{len(cands)} candidate sentences")
    tok_train = cands[:600]
    vocab_size = build_tokenizer(tok_train)
    build_opt(vocab_size)
    tokenizer = get_tokenizer()
    assert tokenizer.encode("Hello")[0] == 2, tokenizer.encode("Hello")
    assert len(tokenizer) == vocab_size
    # Short enough that a 32-d sentence vector can hold them (and BOS + tokens + EOS < MAX_SEQ_LEN).
    sentences = [s for s in cands if len(tokenizer.encode(s)) <= MAX_SENTENCE_TOKENS and s in tok_train][:NUM_SENTENCES]
    log(f"vocab {vocab_size}, {len(sentences)} training sentences")
    with open(os.path.join(FIX, "corpus.txt"), "w") as f:
        f.write("\n".join(sentences) + "\n")
    write_configs()

    # ---- SVAE
    svae_cfg = load_yaml(os.path.join(FIX, "svae-tiny.yaml"))
    assert svae_cfg["ref_model_dir"] == "tiny-opt" and svae_cfg["max_seq_len"] == MAX_SEQ_LEN
    model = train_svae(sentences, tokenizer, svae_cfg)
    ce, ppl = svae_metrics(model, sentences, tokenizer)
    log(f"svae train CE {ce:.4f} PPL {ppl:.4f}")
    svae_path = os.path.join(FIX, "svae-tiny.pth")
    save_mmengine(model, svae_path, SVAE_STEPS, {"train_ce": ce, "train_ppl": ppl})

    model.eval()
    exact = sum(svae_reconstruct(model, s, tokenizer)["output"] == s for s in sentences)
    log(f"svae exact reconstructions: {exact}/{len(sentences)} training sentences")
    demo = ["I love China.", "We come from Northwestern Polytechnical University.", "Hello,", "Welcome to TeleAI!"]
    # unseen sentences of the novel: one plain, one whose greedy decode hits the length cap (no EOS),
    # one longer than max_seq_len tokens (truncated to 32 input ids, and capped too)
    unseen = [cands[-1], "I thought that shirt was not an ordinary kind of shirt.",
              "See if you fellows can make a clean breast of your own fault like this!"]
    assert not any(u in sentences for u in unseen)
    inputs = sentences[:8] + [sentences[100], sentences[-1]] + demo + unseen
    entries = [svae_reconstruct(model, s, tokenizer) for s in inputs]
    for e in entries:
        e["in_training_set"] = e["input"] in sentences
        e["exact"] = e["output"] == e["input"]
    svae_json = {
        "config": "svae-tiny.yaml", "checkpoint": "svae-tiny.pth", "max_seq_len": MAX_SEQ_LEN,
        "train_ce": ce, "train_ppl": ppl, "train_exact": exact, "train_sentences": len(sentences),
        "entries": entries,
    }
    with open(os.path.join(FIX, "svae-expected.json"), "w") as f:
        json.dump(svae_json, f, indent=1)

    # ---- SLLM
    sllm_cfg = load_yaml(os.path.join(FIX, "sllm-tiny.yaml"))
    passages = make_passages(sentences)
    sllm = train_sllm(passages, tokenizer, sllm_cfg, svae_path)
    sllm_path = os.path.join(FIX, "sllm-tiny.pth")
    save_mmengine(sllm, sllm_path, SLLM_STEPS, {})
    from sentence_vae.data import PassageCollate
    cut = PassageCollate(tokenizer=None, max_sentence_num=MAX_SEN_NUM).cut_sentence_func

    # The cut keeps the space after a clause with it, so in training every clause but a passage's last
    # ends in a space token: the stop head learns "no trailing space => stop". Prompts keep the space
    # (as in a passage) except "Hello,", which shows the stop head firing at once.
    def clause_prefix(passage, k):
        return "".join(cut(passage)[0][:k])
    prompts = [clause_prefix(passages[0], 1), clause_prefix(passages[5], 2), clause_prefix(passages[10], 3),
               "Hello,", "I love China. We come from Northwestern Polytechnical University. "]
    gens = [sllm_generate(sllm, p, tokenizer, sllm_cfg) for p in prompts]
    sllm_json = {"config": "sllm-tiny.yaml", "checkpoint": "sllm-tiny.pth", "max_sen_len": MAX_SEQ_LEN,
                 "max_new_sentences": SLLM_MAX_NEW_SENTENCES, "prompts": gens}
    with open(os.path.join(FIX, "sllm-expected.json"), "w") as f:
        json.dump(sllm_json, f, indent=1)
    for g in gens:
        log(f"sllm {g['input']!r} -> {[s['text'] for s in g['sentences']]} stopped={g['stopped']}")

    # ---- verify by reloading into fresh modules
    fresh = make_svae(svae_cfg)
    fresh.load_state_dict(torch.load(svae_path)["state_dict"])
    fresh.eval()
    for e in entries:
        r = svae_reconstruct(fresh, e["input"], tokenizer)
        assert r["output_ids"] == e["output_ids"] and r["embedding"] == e["embedding"], e["input"]
    fresh_sllm = make_sllm(sllm_cfg)
    fresh_sllm.load_state_dict(torch.load(sllm_path)["state_dict"])
    fresh_sllm.eval()
    for g in gens:
        r = sllm_generate(fresh_sllm, g["input"], tokenizer, sllm_cfg)
        assert r == g, g["input"]
    log("reload check passed")
    for p in sorted(glob.glob(os.path.join(FIX, "**"), recursive=True)):
        if os.path.isfile(p):
            log(f"{os.path.getsize(p):8d} {os.path.relpath(p, REPO_ROOT)}")


if __name__ == "__main__":
    main()
