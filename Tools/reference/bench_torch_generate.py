#!/usr/bin/env python3
"""PyTorch reference of `sentencevae bench generate`: batch-1 generation speed and KV-cache memory of a
token-level OPT and of the ORIGINAL SentenceLLM (SLLM-<size>-H<k>), random weights, fp32, on the same
built-in passages. This docstring is the specification both sides follow; run both in one session
(same machine, same minutes — these VMs' speed swings up to 4x) and take the ratios.

Workload
--------
Passages: Sources/sentencevae/Resources/bench-passages.json (made by make_bench_passages.py: paragraphs
of Pride and Prejudice split by the original's splitter, every sentence already encoded as
[2] + GPT-2-BPE ids in OPT's layout, at most 32 tokens). `--limit N` takes the first N passages.
A passage with n sentences s_1..s_n (each s_i = [2, t_i1, t_i2, ...]) gives
    prompt  = s_1 .. s_m,  m = n // 2   (a passage with m < 1 is skipped; the built-in file has none)
    G       = n - m sentences to generate, each forced to exactly S tokens (`--sentence-tokens`, default 12)
With random weights EOS and the stop head are ignored: generation never stops early.
Warm-up: passage 1 is run once, untimed, before the timed run over all (limited) passages, passage 1
included.

Models (fp32, batch 1, eval mode, torch.no_grad, torch.manual_seed(0), HF's default init)
    size   hidden  ffn   heads  layers  word_embed_proj_dim  do_layer_norm_before
    125m    768    3072   12     12       768                 True
    350m   1024    4096   16     24       512                 False (post-LN; project_in/out)
    1.3b   2048    8192   32     24      2048                 True
    vocab 50272, max_position_embeddings 2048, HF OPTConfig defaults otherwise (ReLU, biases,
    LM head tied to the token embedding, HF's default attention implementation: sdpa).

* `opt`: HF `OPTForCausalLM(OPTConfig(...))`, token level, with HF's KV cache (DynamicCache).
    prompt ids  = [2] + t_1.. + t_2.. + ... + t_m..   (the prompt sentences' ids without their leading 2)
    prefill     = ONE forward of the prompt ids (use_cache; logits of the last position only,
                  `logits_to_keep=1`, as HF generate() does)
    then N = G*S tokens greedily: token 1 = argmax of the prefill's last logits; token k+1 = argmax of
    the logits of one forward of token k with the cache (N - 1 single-token forwards; the last token is
    never fed back). EOS is ignored. No softmax (argmax only).
* `sllm-h1|h2|h4`: the original `sentence_vae.models.SentenceLLM` (imported from `--sentence-repo`,
  default /tmp/SentenceVAE; never copied here), built as its configs build it: svae_hidden_size = the
  OPT's hidden, svae_word_embed_proj_dim = the OPT's word_embed_proj_dim (512 for 350m: the SVAE's
  embedding is 512-wide with a project_in to 1024, as the original builds it from OPT-350m's config),
  svae heads = the OPT's heads, k = 1|2|4 encoder and k decoder layers (FFN 2*hidden), learnable_add
  False (every shipped config), max_sentence_len 32, dropout 0.1, bos = eos = 2, pad = 1, vocab
  50272; its llm_layers / llm_pe are the OPT's decoder layers / learned positions (the OPT above).
  Its constructor loads the OPT with `sentence_vae.utils.llm.get_model(dir)` (from_pretrained); here
  that one function is replaced by building `OPTForCausalLM(config)` with random weights (the same
  model the original would load, without writing up to 5 GB of random weights to disk). Nothing else
  of the original is changed; no checkpoint is loaded.
  Per passage (the loop of the original `SentenceLLM.streaming_generate`, written out here because
  (a) that function calls the OPT layers with the transformers-4 API (`past_key_value=`, tuple
  outputs) that transformers 5 no longer has, (b) it re-encodes without a mask (DESIGN.md §2.1) and
  (c) it stops on the stop head / EOS):
    prefill: the m prompt sentences as ONE batch, right-padded with 1 to the longest of them, with
        their real attention mask (1 on real tokens) → `svae.encoder(ids, mask)` → m sentence vectors
        (1, m, H) → + `llm_pe(ones(1, m), 0)` (OPT's learned positions 0..m-1, offset 2) → every llm
        layer once, with a DynamicCache, causal over sentences (transformers' create_causal_mask, as
        OPTDecoder does) → hidden states h (1, m, H).
    then for j = 1..G:
        stop head: argmax(fc(h[:, -1:])) is evaluated (.item()) and ignored;
        decode: the ORIGINAL `svae.decoder.streaming_generate(h[:, -1:], 32, bos 2, eos -1)`, first S
            ids taken (itertools.islice). That is the original decoder's code path, unchanged: from
            [2] it re-runs the whole prefix through the decoder for every token (no cache) and takes
            the argmax of the last logits; eos -1 never matches, so exactly S tokens come out;
        unless j == G: re-encode [2] + those S ids with a mask of ones (`svae.encoder(ids, ones)`) →
            + `llm_pe(ones(1, m+j), m+j-1)` → one llm step of every layer with the sentence-level cache
            → h (1, 1, H).

Timing (time.perf_counter, CPU, so every op has finished when it returns)
    prefill time   start of the passage → the prompt is in the cache (OPT: the prefill forward;
                   SLLM: encoder + llm prefill)
    ttft           start → the first generated token exists (OPT: prefill + argmax; SLLM: prefill +
                   stop head + the decoder's first token)
    output time    end of prefill → the last generated token exists
    input_tokens_per_s   Σ prompt tokens / Σ prefill time. Prompt tokens: OPT = len(prompt ids);
                   SLLM = Σ len(s_i), i ≤ m, each leading 2 included (the original's benchmark counts so)
    output_tokens_per_s  Σ G*S / Σ output time
    ttft_s         mean ttft over the timed passages
  The kb_per_token bookkeeping below (reading cache sizes) is left out of these times. The original's
  modules run as they are, PyTorch's eval fast path of nn.TransformerEncoderLayer included.
kb_per_token: numpy.polyfit(tokens, bytes, 1) slope / 1024, over the samples of ALL timed passages
  pooled (as the original's benchmark fits its memory samples). A sample is taken right after every
  update of the cache: after the prefill and after every single-token forward (OPT, N - 1 of them) or
  every llm step (SLLM, G - 1 of them). bytes = Σ nbytes of every key and value tensor the model keeps
  between steps (OPT: HF's cache; SLLM: the sentence-level cache; the original decoder keeps none);
  tokens = prompt tokens + tokens generated so far (OPT: prompt + k after the forward of token k;
  SLLM: prompt + j*S after the llm step of sentence j). OPT-125m fp32: exactly 2*12*768*4 B = 72 KB
  per token; SLLM-125m: 72 KB per sentence, but the pooled fit also sees the prompts, whose sentences
  are not S tokens long, so it is near, not exactly, 72/S. (The paper's 73.15 / ~12 KB are GPU
  memory_allocated slopes.)
peak_rss_mb: resource.getrusage(RUSAGE_SELF).ru_maxrss / 1024 of a process that runs that one model
  only (the script re-invokes itself per model), construction included (the SLLM's constructor builds
  the whole OPT, embedding and LM head included, and keeps only its layers and positions). It also
  includes the Python + torch + transformers runtime: about 0.74 GB with torch 2.15 (CUDA build) and
  transformers 5.24, measured with a 64-wide model.

How to run
----------
    /tmp/venv/bin/python Tools/reference/bench_torch_generate.py --size 125m \
        [--models opt,sllm-h1,sllm-h2,sllm-h4] [--threads 2] [--limit N] [--sentence-tokens 12] \
        [--passages FILE] [--sentence-repo /tmp/SentenceVAE] [--json]
Needs torch, transformers 5.x (tested with 5.24: the layers take `cache=`; the script falls back to
`past_key_values=` where that is the name, but 4.x is untested), numpy and mmengine (the original's
models import it). Sizes: one timed run over the 24 built-in passages generates 1,320 tokens (110
sentences) per model at S = 12, plus the warm-up passage. `--json` prints exactly
    {"results": [{"model", "size", "weights": "f32", "input_tokens_per_s", "output_tokens_per_s",
                  "ttft_s", "kb_per_token", "peak_rss_mb", "engine": "pytorch <version>"}, ...]}
otherwise a table. The Swift side: `sentencevae bench generate --size 125m ...` on the same file.
"""
import argparse
import inspect
import itertools
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
DEFAULT_PASSAGES = REPO / "Sources/sentencevae/Resources/bench-passages.json"
SIZES = {
    "125m": dict(hidden_size=768, ffn_dim=3072, num_attention_heads=12, num_hidden_layers=12,
                 word_embed_proj_dim=768, do_layer_norm_before=True),
    "350m": dict(hidden_size=1024, ffn_dim=4096, num_attention_heads=16, num_hidden_layers=24,
                 word_embed_proj_dim=512, do_layer_norm_before=False),
    "1.3b": dict(hidden_size=2048, ffn_dim=8192, num_attention_heads=32, num_hidden_layers=24,
                 word_embed_proj_dim=2048, do_layer_norm_before=True),
}
MODELS = ["opt", "sllm-h1", "sllm-h2", "sllm-h4"]
MAX_SENTENCE_LEN = 32


# ---------------------------------------------------------------------------------------------- common

def opt_config(size):
    from transformers import OPTConfig
    return OPTConfig(vocab_size=50272, max_position_embeddings=2048, **SIZES[size])


def cache_kwarg(module):
    """transformers 5 names the cache argument `cache`; 4.x `past_key_values`."""
    return "cache" if "cache" in inspect.signature(module.forward).parameters else "past_key_values"


def cache_bytes(cache):
    if hasattr(cache, "layers"):                                   # transformers ≥ 4.56 / 5
        return sum(t.nbytes for l in cache.layers for t in (l.keys, l.values) if t is not None)
    if hasattr(cache, "key_cache"):
        return sum(t.nbytes for t in list(cache.key_cache) + list(cache.value_cache))
    return sum(t.nbytes for kv in cache for t in kv)               # legacy tuples


def output_cache(out, name):
    cache = getattr(out, name, None)
    return cache if cache is not None else out.past_key_values


def sample(samples, tokens, cache):
    """Records (tokens, cache bytes); returns the seconds it took, which the caller leaves out of its timing."""
    if samples is None:
        return 0.0
    t = time.perf_counter()
    samples.append((tokens, cache_bytes(cache)))
    return time.perf_counter() - t


def prompt_and_g(passage):
    sentences = passage["sentences"]
    m = len(sentences) // 2
    return sentences[:m], len(sentences) - m


# ------------------------------------------------------------------------------------------------- OPT

class OPTRunner:
    def __init__(self, size):
        import torch
        from transformers import OPTForCausalLM
        self.torch = torch
        self.model = OPTForCausalLM(opt_config(size)).eval()
        self.cache_name = cache_kwarg(self.model)
        params = inspect.signature(self.model.forward).parameters
        self.keep = {"logits_to_keep": 1} if "logits_to_keep" in params else {}

    def run(self, passage, S, samples):
        torch = self.torch
        prompt, G = prompt_and_g(passage)
        ids = [2] + [t for s in prompt for t in s[1:]]
        P, N = len(ids), G * S
        t0 = time.perf_counter()
        out = self.model(torch.tensor([ids]), use_cache=True, **self.keep)
        cache = output_cache(out, self.cache_name)
        t_prefill = time.perf_counter()
        nxt = out.logits[:, -1, :].argmax(-1, keepdim=True)
        t_first = time.perf_counter()
        untimed = sample(samples, P, cache)
        for k in range(1, N):
            out = self.model(nxt, use_cache=True, **{self.cache_name: cache}, **self.keep)
            cache = output_cache(out, self.cache_name)
            untimed += sample(samples, P + k, cache)
            nxt = out.logits[:, -1, :].argmax(-1, keepdim=True)
        t_end = time.perf_counter()
        return P, N, t_prefill - t0, t_first - t0, t_end - t_prefill - untimed


# ------------------------------------------------------------------------------------------------ SLLM

class SLLMRunner:
    def __init__(self, size, layers, repo):
        import torch
        sys.path.insert(0, repo)
        import sentence_vae.models.sentence_llm_model as sllm_module
        from transformers import OPTForCausalLM
        from transformers.cache_utils import DynamicCache
        from transformers.masking_utils import create_causal_mask
        self.torch, self.DynamicCache, self.create_causal_mask = torch, DynamicCache, create_causal_mask
        cfg = opt_config(size)

        def random_opt(ckpt_path, dtype="fp32", device="cpu", dist=False):
            # Stands in for sentence_vae.utils.llm.get_model: the OPT the original would load, random.
            return OPTForCausalLM(cfg).to(torch.float32).eval()
        sllm_module.get_model = random_opt
        self.model = sllm_module.SentenceLLM(
            svae_hidden_size=cfg.hidden_size, svae_vocab_size=cfg.vocab_size, svae_learnable_add=False,
            svae_load_ref_model=False, svae_ref_model_dir=None, svae_finetune_embedding=True,
            svae_word_embed_proj_dim=cfg.word_embed_proj_dim, svae_num_attention_heads=cfg.num_attention_heads,
            svae_num_hidden_layers=layers, svae_model_path=None,
            llm_ref_model_dir=f"<random OPT-{size}>", llm_ref_model_dtype=torch.float32,
            finetune_svae=True, max_sentence_len=MAX_SENTENCE_LEN, max_sentence_num=64, dropout=cfg.dropout,
            bos_id=2, pad_id=1, end_id=2, device=torch.device("cpu"), dtype=torch.float32).eval()
        self.llm_config = self.model.llm_layers[0].self_attn.config
        self.cache_name = cache_kwarg(self.model.llm_layers[0])
        self.H = cfg.hidden_size

    def llm(self, hidden, cache):
        mask = self.create_causal_mask(config=self.llm_config, inputs_embeds=hidden, attention_mask=None,
                                       **{self.cache_name: cache})
        for layer in self.model.llm_layers:
            out = layer(hidden, attention_mask=mask, use_cache=True, **{self.cache_name: cache})
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def run(self, passage, S, samples):
        torch, model = self.torch, self.model
        prompt, G = prompt_and_g(passage)
        m = len(prompt)
        P = sum(len(s) for s in prompt)
        T = max(len(s) for s in prompt)
        ids = torch.full((m, T), 1, dtype=torch.long)
        mask = torch.zeros((m, T), dtype=torch.long)
        for i, s in enumerate(prompt):
            ids[i, :len(s)] = torch.tensor(s)
            mask[i, :len(s)] = 1
        t0 = time.perf_counter()
        # prefill (as streaming_generate: encoder → + learned positions → llm layers with a cache)
        emb = model.svae.encoder(ids, mask).view(1, m, self.H)
        hidden = emb + model.llm_pe(torch.ones((1, m), dtype=torch.long), 0)
        cache = self.DynamicCache(config=self.llm_config)
        hidden = self.llm(hidden, cache)
        t_prefill = time.perf_counter()
        untimed = sample(samples, P, cache)
        t_first, held = None, m
        for j in range(1, G + 1):
            last = hidden[:, -1:, :]
            torch.argmax(model.fc(last), dim=-1).item()                 # stop head: evaluated, ignored
            sentence = []
            for tok in itertools.islice(model.svae.decoder.streaming_generate(last, MAX_SENTENCE_LEN, 2, -1), S):
                sentence.append(tok)
                if t_first is None:
                    t_first = time.perf_counter() - untimed
            if j == G:
                break
            new = torch.tensor([[2] + sentence], dtype=torch.long)
            emb = model.svae.encoder(new, torch.ones_like(new))
            held += 1
            hidden = emb + model.llm_pe(torch.ones((1, held), dtype=torch.long), held - 1)
            hidden = self.llm(hidden, cache)
            untimed += sample(samples, P + j * S, cache)
        t_end = time.perf_counter()
        return P, G * S, t_prefill - t0, t_first - t0, t_end - t_prefill - untimed


# ---------------------------------------------------------------------------------------------- driver

def run_one(args, model_name):
    """Benchmarks one model in this process; returns its result dict."""
    import numpy as np
    import torch
    # nn.TransformerEncoder's eval fast path (nested tensors from the padding mask) warns once.
    warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    passages = json.loads(Path(args.passages).read_text())["passages"]
    passages = [p for p in passages if len(p["sentences"]) // 2 >= 1][: args.limit]
    assert passages, "no passages"
    with torch.no_grad():
        if model_name == "opt":
            runner = OPTRunner(args.size)
        else:
            runner = SLLMRunner(args.size, int(model_name.split("-h")[1]), args.sentence_repo)
        runner.run(passages[0], args.sentence_tokens, None)            # warm-up, untimed
        samples, tot = [], [0, 0, 0.0, 0.0, 0.0]
        for p in passages:
            r = runner.run(p, args.sentence_tokens, samples)
            tot = [a + b for a, b in zip(tot, r)]
    P, N, t_pre, t_ttft, t_out = tot
    s = np.array(samples, dtype=np.float64)
    slope = np.polyfit(s[:, 0], s[:, 1], 1)[0] if len(s) > 1 else float("nan")
    return {"model": model_name, "size": args.size, "weights": "f32",
            "input_tokens_per_s": round(P / t_pre, 2), "output_tokens_per_s": round(N / t_out, 3),
            "ttft_s": round(t_ttft / len(passages), 5), "kb_per_token": round(float(slope) / 1024, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "engine": f"pytorch {torch.__version__}"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=list(SIZES), default="125m")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated: " + ",".join(MODELS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--passages", default=str(DEFAULT_PASSAGES))
    ap.add_argument("--limit", type=int, default=None, help="the first N passages")
    ap.add_argument("--sentence-tokens", type=int, default=12, help="S, tokens per generated sentence")
    ap.add_argument("--sentence-repo", default=os.environ.get("SENTENCEVAE_REPO", "/tmp/SentenceVAE"))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            ap.error(f"unknown model {m!r}; choose from {','.join(MODELS)}")
    if not 1 <= args.sentence_tokens <= MAX_SENTENCE_LEN - 1:
        ap.error(f"--sentence-tokens must be 1...{MAX_SENTENCE_LEN - 1} ([2] + S tokens are re-encoded, max 32)")

    if args.worker:
        assert len(models) == 1
        print(json.dumps(run_one(args, models[0])))
        return

    results = []
    for m in models:
        if not args.json:
            print(f"running {m} ...", file=sys.stderr, flush=True)
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--models", m, "--size", args.size,
               "--threads", str(args.threads), "--passages", args.passages,
               "--sentence-tokens", str(args.sentence_tokens), "--sentence-repo", args.sentence_repo]
        if args.limit is not None:
            cmd += ["--limit", str(args.limit)]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.exit(f"bench_torch_generate: the {m} worker failed (exit {proc.returncode})")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    if args.json:
        print(json.dumps({"results": results}))
        return
    print(f"{results[0]['engine']}, {args.threads} threads, size {args.size}, S = {args.sentence_tokens}, "
          f"passages {args.passages}" + (f" (first {args.limit})" if args.limit else ""))
    head = f"{'model':<10}{'in tok/s':>10}{'out tok/s':>11}{'ttft s':>9}{'KB/token':>10}{'peak RSS MB':>13}"
    print(head)
    for r in results:
        print(f"{r['model']:<10}{r['input_tokens_per_s']:>10.1f}{r['output_tokens_per_s']:>11.2f}"
              f"{r['ttft_s']:>9.3f}{r['kb_per_token']:>10.2f}{r['peak_rss_mb']:>13.0f}")


if __name__ == "__main__":
    main()
