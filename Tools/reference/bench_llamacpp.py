#!/usr/bin/env python3
"""Decode speed of llama.cpp against `sentencevae bench opt` at the same size, interleaved.

llama.cpp, the best CPU engine, has no OPT; GPT-2-124M has OPT-125m's width (768), depth (12),
heads (12), FFN (3072) and nearly its vocabulary (50,257 against 50,272), so the same bytes stream
per token. This script
  1. makes a random GPT-2-124M with transformers (seed 0) and saves it with GPT-2's tokenizer files
     (Tests/TokenizationTests/Fixtures/gpt2: vocab.json, merges.txt), so no hub download is needed;
  2. converts it with the llama.cpp checkout's own convert_hf_to_gguf.py (from the llama-cpp-python
     sdist, vendor/llama.cpp) to GGUF f32, f16 and q8_0;
  3. times, in --rounds interleaved rounds: llama-cpp-python (`Llama(…, n_threads)`: a --prompt
     token prompt evaluated, then --tokens single-token evals of fixed pseudo-random tokens; speed does
     not depend on which token, and no argmax is timed)
     in f32, f16 and q8_0, and `sentencevae bench opt --prompt P --tokens N --weights f32,bf16,q8`
     (the same prompt/decode shape on OPT-125m with zero weights: speed does not depend on values);
  4. prints one JSON line per measurement and a summary with the medians and our/llama.cpp ratios
     (our bf16 against its f16, our q8 against its q8_0).

Setup (what this repository's benchmark used; llama-cpp-python from its sdist, built for this CPU
without -march=native, whose AMX/VNNI paths died with SIGILL in these VMs):
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF" \
        pip install --no-binary llama-cpp-python llama-cpp-python
    (add -DGGML_AVX512=ON on a CPU that shows avx512f/bw/dq/vl)
    pip download the same sdist (or fetch it from PyPI's JSON API) and unpack it for --llama-src.

    python Tools/reference/bench_llamacpp.py --llama-src /tmp/llamacpp-src/llama_cpp_python-0.3.36/vendor/llama.cpp \
        --sentencevae .build-release/release/sentencevae [--threads 2] [--rounds 3] [--prompt 64] [--tokens 128] [--work /tmp/gguf]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def make_gguf(args):
    """The random GPT-2 as GGUF f32/f16/q8_0 under --work (made once, reused)."""
    work = Path(args.work)
    files = {t: work / f"gpt2-random-{t}.gguf" for t in ("f32", "f16", "q8_0")}
    if all(f.exists() for f in files.values()):
        return files
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel
    hf = work / "gpt2-random"
    hf.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config())
    model.save_pretrained(hf, safe_serialization=True)
    config = json.loads((hf / "config.json").read_text())
    config.setdefault("n_ctx", config["n_positions"])   # transformers 5 no longer writes it; the converter reads it
    (hf / "config.json").write_text(json.dumps(config, indent=1))
    fixture = REPO / "Tests/TokenizationTests/Fixtures/gpt2"
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(fixture / name, hf / name)
    (hf / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "GPT2Tokenizer", "model_max_length": 1024,
                                                          "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                                                          "unk_token": "<|endoftext|>"}))
    env = dict(os.environ, PYTHONPATH=str(Path(args.llama_src) / "gguf-py") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for outtype, path in files.items():
        if not path.exists():
            subprocess.run([sys.executable, str(Path(args.llama_src) / "convert_hf_to_gguf.py"), str(hf), "--outtype", outtype,
                            "--outfile", str(path)], check=True, env=env, stdout=subprocess.DEVNULL)
    return files


def time_llamacpp(path, args):
    from llama_cpp import Llama
    llm = Llama(model_path=str(path), n_threads=args.threads, n_threads_batch=args.threads, n_ctx=args.prompt + args.tokens + 8,
                n_batch=args.prompt, logits_all=False, verbose=False)
    prompt = [(7 * i + 11) % 50000 + 100 for i in range(args.prompt)]
    llm.eval(prompt)                      # warm-up: pages in the weights
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
    prefill = time.perf_counter() - t0
    token = int(llm.scores[llm.n_tokens - 1].argmax())
    t0 = time.perf_counter()
    for _ in range(args.tokens):
        llm.eval([token])
        token = (token * 31 + 7) % 50000 + 100   # speed does not depend on which token; no argmax cost in the timing
    decode = time.perf_counter() - t0
    del llm
    return args.prompt / prefill, args.tokens / decode


def time_ours(args):
    out = subprocess.run([args.sentencevae, "bench", "opt", "--size", "125m", "--prompt", str(args.prompt), "--tokens", str(args.tokens),
                          "--threads", str(args.threads), "--weights", "f32,bf16,q8"], capture_output=True, text=True, check=True).stdout
    result = {}
    for fmt in ("f32", "bf16", "q8"):
        prefill = re.search(rf"\[{fmt} round 1\] prefill \d+ tokens: ([\d.]+) tokens/s", out)
        decode = re.search(rf"\[{fmt} round 1\] decode \d+ tokens: ([\d.]+) tokens/s", out)
        result[fmt] = (float(prefill.group(1)), float(decode.group(1)))
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llama-src", required=True, help="vendor/llama.cpp of the llama-cpp-python sdist (convert_hf_to_gguf.py, gguf-py)")
    ap.add_argument("--sentencevae", default=str(REPO / ".build-release/release/sentencevae"))
    ap.add_argument("--work", default="/tmp/sentencevae-gguf")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=128)
    args = ap.parse_args()
    files = make_gguf(args)
    runs = {k: [] for k in ("llama.cpp f32", "llama.cpp f16", "llama.cpp q8_0", "ours f32", "ours bf16", "ours q8")}
    for r in range(args.rounds):
        for fmt, path in files.items():
            prefill, decode = time_llamacpp(path, args)
            runs[f"llama.cpp {fmt}"].append(decode)
            print(json.dumps({"round": r, "engine": "llama.cpp", "weights": fmt, "prefill_tokens_per_s": round(prefill, 1),
                              "decode_tokens_per_s": round(decode, 2)}), flush=True)
        for fmt, (prefill, decode) in time_ours(args).items():
            runs[f"ours {fmt}"].append(decode)
            print(json.dumps({"round": r, "engine": "sentencevae", "weights": fmt, "prefill_tokens_per_s": prefill,
                              "decode_tokens_per_s": decode}), flush=True)
    med = {k: statistics.median(v) for k, v in runs.items()}
    import llama_cpp
    print(json.dumps({"median_decode_tokens_per_s": {k: round(v, 2) for k, v in med.items()},
                      "ratios": {"f32 (ours f32 / llama.cpp f32)": round(med["ours f32"] / med["llama.cpp f32"], 2),
                                 "ours bf16 / llama.cpp f16": round(med["ours bf16"] / med["llama.cpp f16"], 2),
                                 "ours q8 / llama.cpp q8_0": round(med["ours q8"] / med["llama.cpp q8_0"], 2)},
                      "threads": args.threads, "prompt": args.prompt, "tokens": args.tokens, "rounds": args.rounds,
                      "llama_cpp_python": llama_cpp.__version__}))


if __name__ == "__main__":
    main()
