"""Multi-query associative recall (MQAR) with linear attention, DeltaNet, gated DeltaNet and OSDN.

Paper: Zhou et al., "OSDN: Improving Delta Rule with Provable Online Preconditioning in Linear
Attention", arXiv 2605.13473 (2026): OSDN improves in-context recall over DeltaNet. Task: MQAR from
Zoology (Arora et al., arXiv 2312.04927): ``pairs`` key-value pairs, then each key queried once;
the model must emit the value at the query position. One head, ``d_k = d_model = 64``, vocabulary
256, batch 32, two layers.
"""

from __future__ import annotations

import math
import os
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxor.osdn import LM, LMConfig
from jaxor.registry import Claim, Result, register

VOCAB, D_MODEL, BATCH = 256, 64, 32
FULL_SETTINGS = [(128, 8), (128, 16), (128, 32), (256, 32), (256, 64)]   # (sequence length, pairs)
MODELS = {
    "linear attention": dict(mixer="linear"),
    "DeltaNet": dict(mixer="deltanet"),
    "gated DeltaNet": dict(mixer="gated_deltanet"),
    "OSDN (same)": dict(mixer="osdn", feedback="same"),
    "OSDN (next)": dict(mixer="osdn", feedback="next"),
    "OSDN+APF": dict(mixer="osdn", feedback="same", use_apf=True),
}


def mqar_batch(key, batch: int, seq_len: int, pairs: int):
    """Zoology-style MQAR: keys in [1, V/2), values in [V/2, V); context ``k1 v1 ... kP vP``, then each
    key once at a random position of the query region (other tokens 0). Labels -1 except at queries."""
    if 3 * pairs > seq_len:
        raise ValueError(f"seq_len={seq_len} must be >= 3 * pairs={3 * pairs}")
    kk, kv, kp = jax.random.split(key, 3)
    half = VOCAB // 2
    keys = jax.vmap(lambda k: jax.random.choice(k, jnp.arange(1, half), (pairs,), replace=False))(
        jax.random.split(kk, batch))
    vals = jax.random.randint(kv, (batch, pairs), half, VOCAB)
    ctx = jnp.stack([keys, vals], -1).reshape(batch, 2 * pairs)
    qlen = seq_len - 2 * pairs
    pos = jax.vmap(lambda k: jax.random.choice(k, qlen, (pairs,), replace=False))(jax.random.split(kp, batch))
    order = jax.vmap(lambda k: jax.random.permutation(k, pairs))(jax.random.split(kv, batch))
    rows = jnp.arange(batch)[:, None]
    q_tok = jnp.zeros((batch, qlen), jnp.int32).at[rows, pos].set(jnp.take_along_axis(keys, order, 1))
    q_lab = jnp.full((batch, qlen), -1, jnp.int32).at[rows, pos].set(jnp.take_along_axis(vals, order, 1))
    tokens = jnp.concatenate([ctx, q_tok], 1)
    labels = jnp.concatenate([jnp.full((batch, 2 * pairs), -1, jnp.int32), q_lab], 1)
    return tokens, labels


def _loss(model, tokens, labels):
    logits = jax.vmap(model)(tokens)
    mask = labels >= 0
    lp = jax.nn.log_softmax(logits)
    nll = -jnp.take_along_axis(lp, jnp.maximum(labels, 0)[..., None], -1)[..., 0]
    return jnp.sum(nll * mask) / jnp.sum(mask), jnp.sum((jnp.argmax(logits, -1) == labels) * mask) / jnp.sum(mask)


def train_setting(model_kw: dict, seq_len: int, pairs: int, seeds: list[int], steps: int, *, lr=3e-3,
                  chunk_size=64, eval_batches=4, progress=None, stop_acc: float | None = 0.99, stop_window=20):
    """Train one model per seed (vmapped over seeds) and return accuracy and recall residual per seed.

    Early stopping: with ``stop_acc`` set, training ends once every seed's training accuracy (on the
    fresh training batches, averaged over the last ``stop_window`` steps) is at least ``stop_acc``;
    the learning-rate schedule is not shortened. ``steps_run`` in the result says when it stopped.
    """
    cfg = LMConfig(vocab_size=VOCAB, d_model=D_MODEL, num_layers=2, num_heads=1, mlp_ratio=2,
                   chunk_size=min(chunk_size, seq_len), backend="chunk", **model_kw)
    keys = jnp.stack([jax.random.PRNGKey(s) for s in seeds])
    models = eqx.filter_vmap(lambda k: LM(cfg, key=k))(keys)
    sched = optax.warmup_cosine_decay_schedule(0.0, lr, max(steps // 10, 1), steps, lr * 0.05)
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(sched, weight_decay=0.1))
    params = eqx.filter(models, eqx.is_array)
    opt_state = jax.vmap(opt.init)(params)

    @eqx.filter_jit
    def step(models, opt_state, key):
        def one(m, s, k):
            tok, lab = mqar_batch(k, BATCH, seq_len, pairs)
            (loss, acc), g = eqx.filter_value_and_grad(_loss, has_aux=True)(m, tok, lab)
            upd, s = opt.update(g, s, eqx.filter(m, eqx.is_array))
            return eqx.apply_updates(m, upd), s, loss, acc

        return eqx.filter_vmap(one)(models, opt_state, jax.random.split(key, len(seeds)))

    key = jax.random.PRNGKey(10_000 + seq_len + pairs)
    losses, train_acc = [], []
    steps_run = steps
    for i in range(steps):
        key, sub = jax.random.split(key)
        models, opt_state, loss, acc = step(models, opt_state, sub)
        train_acc.append(np.asarray(acc))
        if i % 50 == 0 or i == steps - 1:
            losses.append((i, np.asarray(loss)))
        if progress is not None:
            progress.update()
        if (stop_acc is not None and i + 1 >= stop_window
                and np.mean(train_acc[-stop_window:], axis=0).min() >= stop_acc):
            steps_run = i + 1
            if progress is not None:
                progress.update(steps - steps_run)
            break

    @eqx.filter_jit
    def evaluate(models, key):
        def one(m):
            tok, lab = mqar_batch(key, BATCH, seq_len, pairs)
            _, acc = _loss(m, tok, lab)
            rr = jax.vmap(lambda t: m.recall_residual(t, 2 * pairs))(tok)     # [B, layers]
            return acc, jnp.mean(rr, 0)

        return eqx.filter_vmap(one)(models)

    accs, rrs = [], []
    for j in range(eval_batches):
        a, r = evaluate(models, jax.random.PRNGKey(999_000 + j))
        accs.append(np.asarray(a))
        rrs.append(np.asarray(r))
    return dict(acc=np.mean(accs, 0), recall_residual=np.mean(rrs, 0), losses=losses, steps_run=steps_run)


def _env_options() -> dict:
    """Overrides for a reduced full run: ``JAXOR_OSDN_MQAR="settings=128x32,256x64;seeds=3;steps=500"``.

    Also ``models=DeltaNet|OSDN (same)`` (names of ``MODELS``) and ``stop=0.99`` (early-stopping
    training accuracy; ``stop=0`` disables it).
    """
    raw = os.environ.get("JAXOR_OSDN_MQAR", "").strip()
    out: dict = {}
    for part in filter(None, raw.split(";")):
        key, _, val = part.partition("=")
        key = key.strip()
        if key == "settings":
            out["settings"] = [tuple(int(x) for x in s.split("x")) for s in val.split(",")]
        elif key in ("seeds", "steps"):
            out["n_seeds" if key == "seeds" else "steps"] = int(val)
        elif key == "models":
            out["models"] = [m.strip() for m in val.split("|")]
        elif key == "stop":
            out["stop_acc"] = float(val)
        else:
            raise ValueError(f"JAXOR_OSDN_MQAR: unknown key {key!r} (settings, seeds, steps, models, stop)")
    return out


def _mean_se(x):
    x = np.asarray(x, float)
    se = x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else float("nan")
    return float(x.mean()), float(se)


@register("osdn_mqar", quick_budget_s=600)
def run(config, out_dir, progress):
    """MQAR recall: OSDN (same/next-token feedback, APF) vs DeltaNet, gated DeltaNet, linear attention."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    opts = {**_env_options(), **(config.options or {})}
    if config.quick:
        settings, seeds, steps = [(64, 4), (64, 16)], [config.seed], 300
    else:
        settings = opts.get("settings", FULL_SETTINGS)
        seeds = [config.seed + i for i in range(int(opts.get("n_seeds", 3)))]
        steps = int(opts.get("steps", 1500))
    models = opts.get("models", list(MODELS))
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown MQAR model(s) {unknown}; choose from {list(MODELS)}")
    stop_acc = float(opts.get("stop_acc", 0.99)) or None
    full = dict(settings=FULL_SETTINGS, seeds=3, steps=1500, models=list(MODELS))
    reduced = (not config.quick) and (settings != full["settings"] or len(seeds) < 3 or steps < 1500
                                      or models != full["models"])
    progress.set_total(len(settings) * len(models) * steps)
    res, secs = {}, {}
    t0 = time.time()
    for T, P in settings:
        for name in models:
            progress.note(f"T={T} pairs={P} {name}")
            t1 = time.time()
            res[(T, P, name)] = train_setting(MODELS[name], T, P, seeds, steps, progress=progress, stop_acc=stop_acc)
            secs[(T, P, name)] = time.time() - t1
    wall = time.time() - t0

    rows = ["| seq | pairs | " + " | ".join(models) + " |", "|---|---|" + "---|" * len(models)]
    rrows, srows = list(rows), list(rows)
    metrics = {"wall_s": wall, "steps": steps, "seeds": seeds, "settings": [list(s) for s in settings]}
    for T, P in settings:
        cells, rcells, scells = [], [], []
        for name in models:
            m, se = _mean_se(res[(T, P, name)]["acc"])
            rm, rse = _mean_se(res[(T, P, name)]["recall_residual"][:, 0])
            cells.append(f"{100 * m:.1f} ± {100 * se:.1f}" if len(seeds) > 1 else f"{100 * m:.1f}")
            rcells.append(f"{rm:.3f} ± {rse:.3f}" if len(seeds) > 1 else f"{rm:.3f}")
            scells.append(f"{res[(T, P, name)]['steps_run']} ({secs[(T, P, name)]:.0f} s)")
            metrics[f"steps_run/{T}/{P}/{name}"] = res[(T, P, name)]["steps_run"]
            metrics[f"acc/{T}/{P}/{name}"] = res[(T, P, name)]["acc"].tolist()
            metrics[f"recall_residual_layer1/{T}/{P}/{name}"] = res[(T, P, name)]["recall_residual"][:, 0].tolist()
            metrics[f"recall_residual_layer2/{T}/{P}/{name}"] = res[(T, P, name)]["recall_residual"][:, 1].tolist()
        rows.append(f"| {T} | {P} | " + " | ".join(cells) + " |")
        rrows.append(f"| {T} | {P} | " + " | ".join(rcells) + " |")
        srows.append(f"| {T} | {P} | " + " | ".join(scells) + " |")

    claims = []
    for T, P in settings:
        if P < D_MODEL // 2 or "DeltaNet" not in models:
            continue
        dn = np.asarray(res[(T, P, "DeltaNet")]["acc"])
        for name in [n for n in models if n.startswith("OSDN")]:
            os_ = np.asarray(res[(T, P, name)]["acc"])
            diff = float(100 * (os_.mean() - dn.mean()))
            claims.append(Claim(f"{name} not worse than DeltaNet by > 2 points (T={T}, pairs={P}, mean of "
                                f"{len(seeds)} seeds)", ">= -2.0 points", round(diff, 2), diff >= -2.0))
            if len(seeds) > 1:
                se = 100 * math.sqrt(os_.var(ddof=1) / len(os_) + dn.var(ddof=1) / len(dn))
                claims.append(Claim(f"{name} better than DeltaNet beyond 2 standard errors (T={T}, pairs={P})",
                                    f"diff > 2 SE = {2 * se:.2f}", round(diff, 2), diff > 2 * se))

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    labels = [f"{T}/{P}" for T, P in settings]
    w = 0.8 / len(models)
    for i, name in enumerate(models):
        acc = [_mean_se(res[(T, P, name)]["acc"]) for T, P in settings]
        rr = [_mean_se(res[(T, P, name)]["recall_residual"][:, 0]) for T, P in settings]
        xs = np.arange(len(settings)) + i * w
        axes[0].bar(xs, [100 * a for a, _ in acc], w, yerr=[100 * (s if s == s else 0) for _, s in acc],
                    label=name)
        axes[1].bar(xs, [a for a, _ in rr], w, yerr=[(s if s == s else 0) for _, s in rr], label=name)
    for ax, t in zip(axes, ["recall accuracy (%)", "recall residual ratio (layer 1)"], strict=True):
        ax.set_xticks(np.arange(len(settings)) + 0.4 - w / 2, labels)
        ax.set_xlabel("sequence / pairs")
        ax.set_title(t)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "osdn_mqar.png", dpi=120)
    plt.close(fig)

    scope = ""
    if reduced:
        scope = (f"REDUCED RUN: only the subset above was run; the issue's full protocol (settings {FULL_SETTINGS}, "
                 f"6 models, 3 seeds, up to 1500 steps) was NOT run (too slow for this 2-core CPU machine). ")
    stopping = (f"Early stopping: a model's run (all seeds together) ends once every seed's training accuracy, "
                f"averaged over the last 20 steps, reaches {100 * stop_acc:.0f}% (the schedule is not shortened); "
                "the steps table gives where each run stopped. " if stop_acc else "No early stopping. ")
    notes = (scope + stopping + f"Configuration: settings (sequence, pairs) = {settings}, seeds = {seeds}, steps = {steps}, "
             f"models = {models}. "
             f"Ran {len(settings)} settings x {len(models)} models x {len(seeds)} seed(s) x {steps} steps "
             f"(batch {BATCH}, 2 layers, one head, d_k = d_model = {D_MODEL}, vocabulary {VOCAB}, AdamW lr 3e-3 "
             f"warmup+cosine) in {wall:.0f} s on this machine's CPU. Accuracy is over query positions of 4 fresh "
             "evaluation batches; ± is the standard error over seeds. Recall residual ratio: mean of "
             "||S_T^T k_t - v_t|| / ||v_t|| over the context positions t < 2*pairs of layer 1 (jaxor's reading "
             "of the paper's undefined metric).")
    return Result(metrics=metrics, claims=claims, figures=["osdn_mqar.png"],
                  tables={"MQAR recall accuracy (%)": "\n".join(rows),
                          "Recall residual ratio (layer 1)": "\n".join(rrows),
                          "Training steps run (wall time, all seeds)": "\n".join(srows)}, notes=notes)
