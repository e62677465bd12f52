"""Single-thread encoding speed of tiktoken and HF tokenizers, to compare with
`sentencevae bench tokenizer --tokenizer DIR FILE` on the same file.

    RAYON_NUM_THREADS=1 python bench_tokenizers.py Tests/TokenizationTests/Fixtures/gpt2 FILE

Both get GPT-2's BPE from DIR (vocab.json + merges.txt), so no download is needed: tiktoken's
ranks are GPT-2's ids. Each encodes the whole file as one text without special tokens; best of
--runs. The token counts must agree with the Swift figure.
"""
import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import tiktoken  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers, decoders  # noqa: E402

GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def byte_decoder():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def best_of(runs, fn):
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tokenizer_dir")
    ap.add_argument("file")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--per-line", action="store_true", help="encode each line as its own text")
    args = ap.parse_args()
    folder = Path(args.tokenizer_dir)
    text = Path(args.file).read_text(encoding="utf-8")
    mb = len(text.encode("utf-8")) / 1e6

    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    dec = byte_decoder()
    ranks = {bytes(dec[c] for c in tok): i for tok, i in vocab.items() if tok != "<|endoftext|>"}
    enc = tiktoken.Encoding(name="gpt2-local", pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
                            special_tokens={"<|endoftext|>": vocab["<|endoftext|>"]})
    hf = Tokenizer(models.BPE.from_file(str(folder / "vocab.json"), str(folder / "merges.txt")))
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()

    if args.per_line:
        lines = text.split("\n")
        tik = lambda: [i for line in lines for i in enc.encode_ordinary(line)]
        hff = lambda: [i for e in hf.encode_batch(lines, add_special_tokens=False) for i in e.ids]
    else:
        tik = lambda: enc.encode_ordinary(text)
        hff = lambda: hf.encode(text, add_special_tokens=False).ids
    t_tik, ids_tik = best_of(args.runs, tik)
    t_hf, ids_hf = best_of(args.runs, hff)
    suffix = " (per line)" if args.per_line else ""
    for name, t, ids in [("tiktoken " + tiktoken.__version__ + suffix, t_tik, ids_tik),
                         ("HF tokenizers " + __import__("tokenizers").__version__ + suffix, t_hf, ids_hf)]:
        print(f"{name}: {len(ids)} tokens, {mb:.2f} MB, best of {args.runs}: {t:.3f} s, "
              f"{len(ids) / t:.0f} tokens/s, {mb / t:.1f} MB/s")
    print("tiktoken and HF agree:", ids_tik == ids_hf)


if __name__ == "__main__":
    main()
