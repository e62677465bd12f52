#!/usr/bin/env python3
"""Writes Sources/sentencevae/Resources/bench-passages.json: the built-in workload of the generation
benchmark (`sentencevae bench generate` and Tools/reference/bench_torch_generate.py), already split and
tokenized, so that neither side needs a tokenizer or a text file at benchmark time.

Where the text comes from
-------------------------
Jane Austen, *Pride and Prejudice* (1813; public domain), from its first chapter on, as
Tools/fetch-austen extracts it from Debian's `r-cran-janeaustenr` package (the R package is MIT, the
novels are public domain): one paragraph per document, hard-wrapped lines joined with one space. The
script reads fetch-austen's output (`--austen FILE`; by default it runs Tools/fetch-austen into a
temporary file, which needs `apt-get download` once and then reuses its cache), finds the novel's
first paragraph ("It is a truth universally acknowledged, ...") and walks forward paragraph by
paragraph. The selection is deterministic: the output depends only on the text and the arguments.

How a passage is made
---------------------
* Every paragraph is one candidate passage. It is cut into sentences with the ORIGINAL splitter,
  `PassageCollate.cut_sentence_func` of github.com/BestAnHongjun/SentenceVAE (imported from the
  checkout given by `--original`, default /tmp/SentenceVAE; never copied here), with
  max_sentence_num 512, and its padding ("" with mask 0) dropped. That splitter is clause-level
  (commas cut) and drops any text after the last cut; both are kept as they are (DESIGN.md §1).
* A paragraph is kept when it has 4 to 16 sentences (`--min-sentences`, `--max-sentences`) and every
  sentence contains a Latin letter. (The splitter cuts after every `"`, so a paragraph of dialogue
  opening with a quote yields a sentence that is the lone `"`; such paragraphs are skipped rather
  than benchmarked on 2-token sentences.) The first `--count` (24) kept paragraphs, in the novel's
  order, are the passages.
* Every sentence is encoded exactly as the project's tokenizer encodes one sentence for a sentence
  model: GPT-2's byte-level BPE in OPT's id layout as `Tools/make-reference-dir` writes it (`<s>`=0,
  `<pad>`=1, `</s>`=2, `<unk>`=3, GPT-2 token g at id g + 4; vocab.json/merges.txt from
  Tests/TokenizationTests/Fixtures/gpt2), i.e. `[2] + [g + 4 for g in GPT-2 BPE ids]`, the leading
  `</s>` being OPT's prepended BOS, then truncated to at most 32 tokens (HF `truncation=True,
  max_length=32`: the BOS counts, text tokens are dropped from the end). The encoding is done with HF
  transformers' GPT2Tokenizer loaded from a temporary make-reference-dir directory, and checked against
  the committed GPT-2 goldens (Tests/TokenizationTests/Fixtures/tokenizer-goldens.json, "prose" cases).
  The ids are those of the make-reference-dir layout, not of facebook/opt-*'s vocab.json (which orders
  the same BPE tokens by fairseq's frequency): for a speed benchmark with random weights any valid ids
  do; what matters is that both sides read the same ids.

Output (JSON, < 100 KB):
    {"description": ..., "source": ..., "tokenizer": "GPT-2 BPE in OPT's id layout",
     "max_sentence_tokens": 32,
     "passages": [{"sentences": [[2, ...], ...], "text": [sentence strings]}, ...]}
`text` holds the sentences as the splitter cut them (for reading; the benchmark uses only the ids).

How to run (seconds; needs transformers and torch, which the original's collate module imports):
    python Tools/reference/make_bench_passages.py [--austen austen.txt] [--original /tmp/SentenceVAE]
"""
import argparse
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
DEFAULT_OUT = REPO / "Sources/sentencevae/Resources/bench-passages.json"
FIRST_PARAGRAPH = "It is a truth universally acknowledged"
MAX_TOKENS = 32


def load_splitter(original):
    path = Path(original) / "sentence_vae" / "data" / "data_collate.py"
    spec = importlib.util.spec_from_file_location("original_data_collate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    collate = module.PassageCollate(tokenizer=None, max_sentence_num=512)

    def split(text):
        sentences, mask = collate.cut_sentence_func(text)
        return [s for s, m in zip(sentences, mask.tolist()) if m == 1]
    return split


def load_tokenizer(tmp):
    ref = Path(tmp) / "opt-layout"
    subprocess.run([sys.executable, str(REPO / "Tools/make-reference-dir"), str(ref)], check=True,
                   stdout=subprocess.DEVNULL)
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(ref))

    def encode(sentences):
        return tok(sentences, truncation=True, max_length=MAX_TOKENS)["input_ids"]

    # Self-check against the committed GPT-2 goldens: OPT layout = [2] + GPT-2 ids + 4.
    goldens = json.loads((REPO / "Tests/TokenizationTests/Fixtures/tokenizer-goldens.json").read_text())
    prose = [c for c in goldens["cases"] if c["group"] == "prose"][:50]
    full = tok([c["text"] for c in prose])["input_ids"]
    for c, ids in zip(prose, full):
        assert ids == [2] + [g + 4 for g in c["gpt2"]], f"tokenizer disagrees with the goldens on {c['text']!r}"
    return encode


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--austen", help="Tools/fetch-austen's output (default: run Tools/fetch-austen into a temp file)")
    ap.add_argument("--original", default="/tmp/SentenceVAE", help="checkout of BestAnHongjun/SentenceVAE")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--min-sentences", type=int, default=4)
    ap.add_argument("--max-sentences", type=int, default=16)
    args = ap.parse_args()

    split = load_splitter(args.original)
    with tempfile.TemporaryDirectory() as tmp:
        austen = args.austen
        if austen is None:
            austen = str(Path(tmp) / "austen.txt")
            subprocess.run([str(REPO / "Tools/fetch-austen"), austen], check=True, stdout=subprocess.DEVNULL)
        encode = load_tokenizer(tmp)
        paragraphs = Path(austen).read_text(encoding="utf-8").split("\n\n")
        start = next((i for i, p in enumerate(paragraphs) if p.startswith(FIRST_PARAGRAPH)), None)
        if start is None:
            sys.exit(f"make_bench_passages: no paragraph starting {FIRST_PARAGRAPH!r} in {austen} "
                     "(expected Tools/fetch-austen's output)")

        passages, truncated = [], 0
        for p in paragraphs[start:]:
            sentences = split(p)
            if not args.min_sentences <= len(sentences) <= args.max_sentences:
                continue
            if not all(re.search("[A-Za-z]", s) for s in sentences):
                continue  # e.g. a lone '"': the splitter cuts right after an opening quote
            ids = encode(sentences)
            assert all(s[0] == 2 and 2 <= len(s) <= MAX_TOKENS for s in ids), ids
            truncated += sum(len(s) == MAX_TOKENS for s in ids)
            passages.append({"sentences": ids, "text": sentences})
            if len(passages) == args.count:
                break
    assert len(passages) == args.count, f"only {len(passages)} passages found"

    doc = {
        "description": (f"Built-in workload of `sentencevae bench generate`: the first {args.count} paragraphs of "
                        f"Pride and Prejudice (Jane Austen, 1813, public domain) with {args.min_sentences}-"
                        f"{args.max_sentences} sentences, each with a letter, under the original SentenceVAE splitter "
                        "(PassageCollate.cut_sentence_func), one passage per paragraph, every sentence encoded "
                        "as [</s>] + BPE ids and truncated to 32 tokens. Made by "
                        "Tools/reference/make_bench_passages.py."),
        "source": "Pride and Prejudice, from Debian r-cran-janeaustenr via Tools/fetch-austen",
        "tokenizer": "GPT-2 BPE in OPT's id layout",
        "max_sentence_tokens": MAX_TOKENS,
        "passages": passages,
    }
    # One passage per line (ids compact), so diffs stay readable.
    lines = [json.dumps(p, ensure_ascii=False, separators=(",", ":")) for p in passages]
    head = json.dumps({k: v for k, v in doc.items() if k != "passages"}, ensure_ascii=False, indent=1)[:-2]
    body = head + ',\n "passages": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"
    assert json.loads(body) == doc
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    n = [len(p["sentences"]) for p in passages]
    toks = sum(len(s) for p in passages for s in p["sentences"])
    print(f"wrote {out}: {len(passages)} passages, {sum(n)} sentences ({min(n)}-{max(n)} per passage), "
          f"{toks} tokens, {truncated} sentences at the 32-token cap, {len(body.encode())} bytes")


if __name__ == "__main__":
    main()
