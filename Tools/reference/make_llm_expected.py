#!/usr/bin/env python3
"""Expected `sentencevae llm --json` output for the tiny OPT in Tests/SentenceVAECLITests/Fixtures/tiny-opt.

HF `OPTForCausalLM` (eager attention, fp32) and the directory's own tokenizer, greedy argmax one
token at a time (no logits processors), stopping after EOS (kept) or `max_new_tokens`. Writes
llm-expected.json: {"max_new_tokens": int, "cases": [{"input", "input_ids", "output_ids", "text"}]}.

    pip install torch transformers
    python Tools/reference/make_llm_expected.py
"""
import json
import pathlib

import torch
from transformers import AutoTokenizer, OPTForCausalLM

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "Tests/SentenceVAECLITests/Fixtures"
MAX_NEW = 12
PROMPTS = ["Some may ask why I committed such a rash act.", "Hello,", "The"]

model = OPTForCausalLM.from_pretrained(FIXTURES / "tiny-opt", attn_implementation="eager").eval()
tokenizer = AutoTokenizer.from_pretrained(FIXTURES / "tiny-opt")
cases = []
with torch.no_grad():
    for prompt in PROMPTS:
        ids = tokenizer(prompt)["input_ids"]
        seq = torch.tensor([ids])
        out = []
        for _ in range(MAX_NEW):
            nxt = int(model(input_ids=seq).logits[0, -1].argmax())
            out.append(nxt)
            if nxt == model.config.eos_token_id:
                break
            seq = torch.cat([seq, torch.tensor([[nxt]])], dim=1)
        cases.append({"input": prompt, "input_ids": ids, "output_ids": out,
                      "text": tokenizer.decode(out, skip_special_tokens=True)})
(FIXTURES / "llm-expected.json").write_text(json.dumps({"max_new_tokens": MAX_NEW, "cases": cases}, indent=1))
print(json.dumps(cases)[:400])
