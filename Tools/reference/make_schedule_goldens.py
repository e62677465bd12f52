#!/usr/bin/env python3
"""Golden learning-rate schedules and EMA sequences of the original's mmengine training setup.

What it makes
-------------
Tests/TrainingTests/Fixtures/lr_schedule.json
    The lr that each optimizer step USES under the original's schedulers, read from
    `optimizer.param_groups[0]['lr']` right before `optimizer.step()` at iteration t = 0, 1, ...
    The schedulers are built from the same dicts `tools/train/train_svae.py` (and train_sllm.py) give
    mmengine's Runner, through mmengine's PARAM_SCHEDULERS registry on an OptimWrapper around
    `torch.optim.AdamW(lr=base_lr, weight_decay=0.01)`:
        dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=W)
        dict(type='CosineAnnealingLR', by_epoch=False, T_max=T)
    and stepped as mmengine's ParamSchedulerHook.after_train_iter steps them: after every
    iteration, each scheduler's step() in list order. (Building a scheduler runs one step(), so the
    lr of iteration 0 is already scheduled.) For the first case the script also runs a real mmengine
    Runner (IterBasedTrainLoop, a one-parameter model, a hook reading the lr before each iteration's
    optimizer step) and asserts identical values.
    {"start_factor": 0.001,
     "cases": [{"warmup_iters": W, "tmax": T, "base_lr": η0, "iters": [t...], "lrs": [lr_t...],
                "closed_form_max_rel_err": ...}]}
    Cases: (W=10, T=40, η0=1.0, t<200), (W=50, T=200, η0=0.5, t<1000), (W=5000, T=20000, η0=1e-3, t<45000;
    the original's configs; stored: t = 0..20, every 100th, and t±3 around 4999, 5000, 19999, 20000,
    39999, 40000), (W=1, T=100, η0=1.0, t<150). All values are float64 (Python floats).

    What the figures say (mmengine 0.10.7, verified against the closed form below, rel. err < 1e-9):
      * LinearLR has total_iters = end - begin - 1 = W - 1 and is active for 0 <= t < W: its factor is
        s + (1 - s)·t/(W - 1) for t <= W - 1, reaching 1 at t = W - 1 (not at W), then stays 1.
      * Both schedulers are "chainable" (each multiplies the CURRENT lr by a ratio), so the factors
        multiply: for t <= T,  lr_t = η0 · (s + (1 - s)·min(t, W-1)/(W-1)) · ½(1 + cos(π t / T)).
      * lr_0 = η0·s (·1); lr_{W-1} = η0·½(1 + cos(π(W-1)/T)); lr_T = 0 exactly.
      * At t = T+1 (and T+1 + 2kT) CosineAnnealingLR cannot divide by the zero lr and ADDS
        η0·(1 - cos(π/T))/2 instead, after which the ratios continue: for t > T the lr is
        η0·½(1 + cos(π t / T)) with NO warm-up factor, i.e. it climbs back to η0 at 2T, 0 at 3T, ...
        (period 2T). The additive step forgets any factor LinearLR left behind: with W = 1, LinearLR
        multiplies by s once at t = 0 and is never active again, so the lr is η0·s·½(1 + cos(πt/T)) for
        t <= T (a thousandth of the intended lr!) and η0·½(1 + cos(πt/T)) after T.
      * W = 0 (warmup_iters: 0) is rejected by mmengine ("end should be larger than begin").

Tests/TrainingTests/Fixtures/ema.json
    mmengine's ExponentialMovingAverage (what `EMAHook` builds; defaults momentum 0.0002, interval 1,
    update_buffers False) over a module holding one float32 parameter vector of 6 values. Before each of
    5 updates the parameter is set to a new random vector θ_k; then `update_parameters(model)`:
        update 1: ema ← θ_1 (a copy)
        update k > 1: ema ← (1 − m)·ema + m·θ_k, computed as `ema.lerp_(θ_k, m)` (m weighs the NEW weights)
    {"cases": [{"momentum": m, "thetas": [[6 floats] × 5], "emas": [[6 floats] × 5]}]}, m = 0.3, 0.0002;
    emas[k] is the average after update k+1. Values are float32 stored as JSON doubles; torch's lerp in
    float32 may differ from a plain `ema + m·(θ − ema)` by an ulp, so compare with a 1e-6 tolerance.

How to run
----------
    pip install torch mmengine
    python Tools/reference/make_schedule_goldens.py
Deterministic (seeded; the schedule has no randomness). Made with torch 2.15, mmengine 0.10.7.
"""
import json
import logging
import math
import pathlib
import tempfile

import torch
from mmengine.model import BaseModel, ExponentialMovingAverage
from mmengine.optim import OptimWrapper
from mmengine.registry import PARAM_SCHEDULERS

torch.set_num_threads(1)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/TrainingTests/Fixtures"
START = 1e-3


def scheduler_cfgs(W, T):
    """Exactly the param_scheduler list of tools/train/train_svae.py / train_sllm.py."""
    return [dict(type='LinearLR', start_factor=START, by_epoch=False, begin=0, end=W),
            dict(type='CosineAnnealingLR', by_epoch=False, T_max=T)]


def schedule(W, T, base_lr, N):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=base_lr, weight_decay=0.01)
    wrapper = OptimWrapper(optimizer=optimizer, clip_grad=dict(max_norm=1))
    schedulers = [PARAM_SCHEDULERS.build(c, default_args=dict(optimizer=wrapper)) for c in scheduler_cfgs(W, T)]
    lrs = []
    for _ in range(N):
        lrs.append(optimizer.param_groups[0]["lr"])    # the lr this iteration's optimizer.step() uses
        param.grad = torch.zeros_like(param)
        wrapper.step()
        for s in schedulers:                            # ParamSchedulerHook.after_train_iter
            if not s.by_epoch:
                s.step()
    return lrs


def closed_form(W, T, base_lr, t):
    cos = 0.5 * (1 + math.cos(math.pi * t / T))
    if t > T:
        return base_lr * cos
    lin = START if W == 1 else START + (1 - START) * min(t, W - 1) / (W - 1)
    return base_lr * lin * cos


def runner_schedule(W, T, base_lr, N):
    """The same schedule from a real mmengine Runner (CPU, OptimWrapper instead of AmpOptimWrapper)."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    class One(BaseModel):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, x, mode="loss"):
            return {"loss": (self.w * x).sum()}

    class Record(Hook):
        def __init__(self):
            self.lrs = []

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.lrs.append(runner.optim_wrapper.optimizer.param_groups[0]["lr"])

    record = Record()
    data = [{"x": torch.ones(1)} for _ in range(N)]
    with tempfile.TemporaryDirectory() as work_dir:
        runner = Runner(
            model=One(), work_dir=work_dir,
            train_dataloader=dict(dataset=data, sampler=dict(type="DefaultSampler", shuffle=False),
                                  batch_size=1, collate_fn=dict(type="default_collate")),
            train_cfg=dict(by_epoch=False, max_iters=N),
            optim_wrapper=dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=base_lr, weight_decay=0.01),
                               clip_grad=dict(max_norm=1)),
            param_scheduler=scheduler_cfgs(W, T),
            default_hooks=dict(logger=None, checkpoint=None),
            custom_hooks=[record], log_level="WARNING")
        runner.train()
    logging.getLogger("mmengine").setLevel(logging.WARNING)
    return record.lrs


def lr_cases():
    cases = []
    for W, T, base_lr, N, sparse in [(10, 40, 1.0, 200, False), (50, 200, 0.5, 1000, False),
                                      (5000, 20000, 1e-3, 45000, True), (1, 100, 1.0, 150, False)]:
        lrs = schedule(W, T, base_lr, N)
        iters = list(range(N))
        if sparse:
            keep = set(range(21)) | set(range(0, N, 100))
            for c in (4999, 5000, 19999, 20000, 39999, 40000):
                keep |= set(range(c - 3, c + 4))
            iters = sorted(k for k in keep if k < N)
        err = max(abs(lrs[t] - closed_form(W, T, base_lr, t)) / base_lr for t in range(N))
        assert err < 1e-9, (W, T, err)
        case = {"warmup_iters": W, "tmax": T, "base_lr": base_lr, "iters": iters, "lrs": [lrs[t] for t in iters],
                "closed_form_max_rel_err": err}
        cases.append(case)
        pts = {t: lrs[t] / base_lr for t in (0, W - 1, W, T - 1, T, T + 1, 2 * T) if t < N}
        print(f"W={W} T={T} base={base_lr}: lr/base " + ", ".join(f"t={t}: {v:.6g}" for t, v in pts.items())
              + f"; max rel err vs closed form {err:.2e}")
    via_runner = runner_schedule(10, 40, 1.0, 200)
    assert via_runner == cases[0]["lrs"], "Runner and hand-stepped schedulers disagree"
    print("mmengine Runner reproduces case 1 exactly")
    return {"start_factor": START, "cases": cases}


def ema_cases():
    cases = []
    for m in (0.3, 0.0002):
        gen = torch.Generator().manual_seed(5)
        model = torch.nn.Module()
        model.w = torch.nn.Parameter(torch.randn(6, generator=gen))
        ema = ExponentialMovingAverage(model, momentum=m)
        thetas, emas = [], []
        for _ in range(5):
            with torch.no_grad():
                model.w.copy_(torch.randn(6, generator=gen))
            thetas.append(model.w.detach().tolist())
            ema.update_parameters(model)
            emas.append(ema.module.w.detach().tolist())
        # the documented formula, in float64, as a check
        ref = list(thetas[0])
        for k in range(1, 5):
            ref = [(1 - m) * e + m * x for e, x in zip(ref, thetas[k])]
            assert max(abs(a - b) for a, b in zip(ref, emas[k])) < 1e-6
        assert emas[0] == thetas[0]
        cases.append({"momentum": m, "thetas": thetas, "emas": emas})
    return {"formula": "update 1: ema = theta; update k > 1: ema = (1 - momentum) * ema + momentum * theta",
            "cases": cases}


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "lr_schedule.json").write_text(json.dumps(lr_cases()) + "\n")
    (OUT / "ema.json").write_text(json.dumps(ema_cases(), indent=1) + "\n")
    for name in ("lr_schedule.json", "ema.json"):
        print(f"wrote {name} ({(OUT / name).stat().st_size // 1024} KB)")
