"""Golden fixtures for SentenceSplitter's `original` mode, made by the ORIGINAL function.

    python make_split_goldens.py --original /path/to/SentenceVAE --english austen.txt \
        --chinese /usr/share/games/fortunes/tang300 --out Tests/TokenizationTests/Fixtures

`--original` is a checkout of github.com/BestAnHongjun/SentenceVAE (MIT licence). Its
`sentence_vae/data/data_collate.py` is imported as is and `PassageCollate.cut_sentence_func` is
called on every text, so the goldens are the original's behaviour, not a re-implementation. Its
padding ("" with mask 0) is dropped; only sentences with mask 1 are recorded.

English: paragraphs of Jane Austen (public domain; see extract_austen.py), raw, with their line
breaks. Chinese: Tang poems from Debian's fortunes-zh (`tang300`), colour escapes removed.
"""
import argparse
import importlib.util
import json
import re
from pathlib import Path

EDGE_CASES = [
    "", " ", "\n", "No cut at all", "One. Two", "Trailing text only after cut, here", '"', '""', '" "',
    'He said, "Hello." Then left.', 'She asked "why?" and "how!"', '"Yes," he said. "No".', "Wait... what?!",
    "……他说。”", "“你好，”他说，“再见。”", "你好！世界？是的；不：好", "。”，”。？”！”", "a!”b",
    "Pi is 3.14, not 3,14: at 12:30 we eat 10,000 cakes.", "Line one\nLine two\r\nLine three\r",
    "Cut then spaces.   \n\n  Next", "Tabs.\tafter", "Ends with space ", "Mixed 中文, English。 和标点！",
    "a.b.c.d.e.f.g.h", ",,,,", "::", "?!?!", "“quoted”", "He said: 'single' quotes.", "Emoji 😀. More 👋!",
]


def load_original(repo):
    path = Path(repo) / "sentence_vae" / "data" / "data_collate.py"
    spec = importlib.util.spec_from_file_location("original_data_collate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PassageCollate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--original", required=True, help="checkout of BestAnHongjun/SentenceVAE")
    ap.add_argument("--english", required=True)
    ap.add_argument("--chinese", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    PassageCollate = load_original(args.original)

    english = Path(args.english).read_text(encoding="utf-8").split("\n\n")
    english = [p for p in english if len(p.strip()) > 20][:300]
    chinese = re.sub(r"\x1b\[[0-9;]*m", "", Path(args.chinese).read_text(encoding="utf-8")).split("\n%\n")
    chinese = [p for p in chinese if p.strip()][:200]
    # A few whole chapters, so texts longer than the limits and the limit itself get exercised.
    long_texts = ["\n\n".join(english[i:i + 20]) for i in range(0, 60, 20)]

    cases = []
    for group, texts, limits in [("edge", EDGE_CASES, [512, 2]), ("english", english, [512]),
                                 ("chinese", chinese, [512]), ("long", long_texts, [512, 16])]:
        for text in texts:
            for limit in limits:
                collate = PassageCollate(tokenizer=None, max_sentence_num=limit)
                sentences, mask = collate.cut_sentence_func(text)
                kept = [s for s, m in zip(sentences, mask.tolist()) if m == 1]
                assert len(kept) == sum(mask.tolist())
                cases.append({"group": group, "max": limit, "text": text, "sentences": kept})
    lines = ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases)
    (Path(args.out) / "split-goldens.json").write_text("[\n" + lines + "\n]\n", encoding="utf-8")
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
