#!/usr/bin/env python3
"""Trains HF `tokenizers`' byte-level BPE on a corpus and checks `sentencevae tokenizer train`
against it.

    python check_trained_tokenizer.py CORPUS --vocab N [--min-frequency 2] [--ours DIR]
                                      [--hf-out DIR] [--golden DIR]

CORPUS is read exactly as `sentencevae tokenizer train` reads it (Sources/Training/Data/Corpus.swift):
a .txt file (documents separated by blank lines, the trimmed lines of a document joined with one
space), a .jsonl file (the --jsonl-field of each object, kept verbatim), or a directory of them
(recursive, in byte order of the paths). Each document is one sequence for
`ByteLevelBPETokenizer.train_from_iterator` (no prefix space, the 256-byte initial alphabet,
special tokens <s> <pad> </s> <unk> first).

With --ours DIR (a directory written by `sentencevae tokenizer train` with the same settings):
- merges.txt is compared line by line and vocab.json byte for byte with HF's;
- DIR is loaded with `tokenizers.Tokenizer.from_file(DIR/tokenizer.json)` and with
  `transformers.AutoTokenizer.from_pretrained(DIR)`; both must encode the first documents (and a
  few odd strings) as HF's trained model does, with </s> (id 2) in front, and decode them back.
Exit status 1 on any difference.

With --golden DIR, HF's vocab.json and merges.txt are written to DIR (the test fixture).
With --hf-out DIR, HF's whole trained tokenizer is kept there.

Needs `tokenizers` and `transformers` (pip). Timing: HF's trainer uses all cores (rayon); set
RAYON_NUM_THREADS=1 to compare with our single-threaded trainer.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
# The Unicode White_Space property (what Swift's `isWhitespace` and Corpus.trimmed use); Python's
# str.strip() also strips U+001C..U+001F, which are not White_Space.
WHITE_SPACE = ("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
               "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

ODD_STRINGS = ["", " ", "  two  spaces  ", "tab\there", "line\nbreak", "I'm sure you'll see, Mr. Darcy!",
               "café naïve e\u0301", "日本語のテキスト", "emoji 😀👋🏽", "numbers 3.14159 and 1,000,000",
               "</s> in text <pad>", "\u00a0nbsp\u00a0", "trailing space "]


def documents_of_text(text):
    docs, lines = [], []
    for line in text.split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        t = line.strip(WHITE_SPACE)
        if t:
            lines.append(t)
        elif lines:
            docs.append(" ".join(lines))
            lines = []
    if lines:
        docs.append(" ".join(lines))
    return docs


def documents_of_jsonl(text, field):
    docs = []
    for line in text.split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        if not line.strip(WHITE_SPACE):
            continue
        value = json.loads(line)[field]
        if value.strip(WHITE_SPACE):
            docs.append(value)
    return docs


def read_corpus(path, field="content"):
    path = Path(path)
    if path.is_dir():
        files = sorted((p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".jsonl")),
                       key=lambda p: str(p).encode("utf-8"))
    else:
        files = [path]
    docs = []
    for f in files:
        text = f.read_bytes().decode("utf-8")
        if text.startswith("\ufeff"):
            text = text[1:]
        docs += documents_of_jsonl(text, field) if f.suffix.lower() == ".jsonl" else documents_of_text(text)
    return docs


def train_hf(docs, vocab, min_frequency):
    from tokenizers import ByteLevelBPETokenizer
    tok = ByteLevelBPETokenizer(add_prefix_space=False)
    start = time.perf_counter()
    tok.train_from_iterator(docs, vocab_size=vocab, min_frequency=min_frequency, special_tokens=SPECIALS,
                            show_progress=False)
    return tok, time.perf_counter() - start


def compare_merges(ours_path, hf_path):
    ours = ours_path.read_text(encoding="utf-8").split("\n")
    hf = hf_path.read_text(encoding="utf-8").split("\n")
    for i, (a, b) in enumerate(zip(ours, hf)):
        if a != b:
            lo = max(0, i - 2)
            print(f"merges.txt differs first at line {i + 1}: ours {a!r}, HF {b!r}")
            print(f"  context (ours): {ours[lo:i + 3]}")
            print(f"  context (HF):   {hf[lo:i + 3]}")
            return False
    if len(ours) != len(hf):
        print(f"merges.txt: ours has {len(ours) - 2} merges, HF {len(hf) - 2}; the first {min(len(ours), len(hf)) - 2} agree")
        return False
    print(f"merges.txt: identical ({len(hf) - 2} merges)")
    return True


def check_loading(ours_dir, hf_tok, docs):
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer
    ok = True
    fast = Tokenizer.from_file(str(ours_dir / "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(str(ours_dir))
    for name, want, got in [("bos", 2, auto.bos_token_id), ("eos", 2, auto.eos_token_id),
                            ("pad", 1, auto.pad_token_id), ("unk", 3, auto.unk_token_id)]:
        if want != got:
            print(f"transformers: {name}_token_id is {got}, expected {want}")
            ok = False
    texts = docs[:300] + ODD_STRINGS
    for text in texts:
        want = [2] + hf_tok.encode(text).ids
        got_fast = fast.encode(text).ids
        got_auto = auto.encode(text)
        if got_fast != want or got_auto != want:
            print(f"encoding differs for {text[:60]!r}:\n  HF-trained {want[:20]}\n  tokenizer.json {got_fast[:20]}\n  AutoTokenizer {got_auto[:20]}")
            ok = False
            break
        back = auto.decode(got_auto[1:])
        if back != text:
            print(f"AutoTokenizer does not decode {text[:60]!r} back: {back[:60]!r}")
            ok = False
            break
    if ok:
        print(f"{ours_dir}: loads in tokenizers and transformers ({type(auto).__name__}); {len(texts)} texts "
              "encode as HF's trained model with </s> first and decode back")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--min-frequency", type=int, default=2)
    ap.add_argument("--jsonl-field", default="content")
    ap.add_argument("--ours", help="a directory written by `sentencevae tokenizer train`")
    ap.add_argument("--hf-out", help="keep HF's trained tokenizer here")
    ap.add_argument("--golden", help="write HF's vocab.json and merges.txt here")
    args = ap.parse_args()

    docs = read_corpus(args.corpus, args.jsonl_field)
    size = sum(len(d.encode("utf-8")) for d in docs)
    print(f"{args.corpus}: {len(docs)} documents, {size:,} bytes")
    hf_tok, seconds = train_hf(docs, args.vocab, args.min_frequency)
    threads = os.environ.get("RAYON_NUM_THREADS", str(os.cpu_count()))
    print(f"HF tokenizers trained {hf_tok.get_vocab_size()} tokens in {seconds:.2f} s ({threads} threads)")

    with tempfile.TemporaryDirectory() as tmp:
        hf_dir = Path(args.hf_out or tmp)
        hf_dir.mkdir(parents=True, exist_ok=True)
        hf_tok.save_model(str(hf_dir))
        hf_tok.save(str(hf_dir / "tokenizer.json"))
        if args.golden:
            golden = Path(args.golden)
            golden.mkdir(parents=True, exist_ok=True)
            for name in ("vocab.json", "merges.txt"):
                (golden / name).write_bytes((hf_dir / name).read_bytes())
            print(f"wrote {golden}/vocab.json and merges.txt")
        if not args.ours:
            return 0
        ours = Path(args.ours)
        ok = compare_merges(ours / "merges.txt", hf_dir / "merges.txt")
        same_vocab = (ours / "vocab.json").read_bytes() == (hf_dir / "vocab.json").read_bytes()
        print("vocab.json: identical" if same_vocab else "vocab.json: differs")
        ok = ok and same_vocab
        ok = check_loading(ours, hf_tok, docs) and ok
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
