"""PyTorch's side of `sentencevae bench kernels`' softmax rows: torch.softmax and log_softmax over
50,272 fp32 logits (N(0, 3²), as the Swift benchmark draws them), one thread, best of many calls in
microseconds. Run it alternately with `sentencevae bench kernels` so both see the same machine.

    python Tools/reference/bench_torch_softmax.py
"""
import time

import torch

torch.set_num_threads(1)
logits = torch.randn(50272, generator=torch.Generator().manual_seed(2)) * 3


def best_us(fn, minimum=0.2):
    best, spent = float("inf"), 0.0
    while spent < minimum:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return best * 1e6


with torch.inference_mode():
    print(f"torch {torch.__version__}, 1 thread")
    print(f"softmax 50272      {best_us(lambda: torch.softmax(logits, dim=0)):.2f} µs")
    print(f"log-softmax 50272  {best_us(lambda: torch.log_softmax(logits, dim=0)):.2f} µs")
