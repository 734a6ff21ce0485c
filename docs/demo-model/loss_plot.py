"""The loss curve as a self-contained SVG: training loss per step (faint) and its moving average, held-out loss at
each evaluation (dots), in nats per token, against the step."""
import math


def write_svg(path, state, plan, width=720, height=400):
    train = state["train_loss"]
    evals = state["eval_loss"]
    if not train:
        return
    left, right, top, bottom = 60, 20, 30, 50
    steps = len(train)
    values = train + [v for _, v in evals]
    lo = math.floor(min(values) * 2) / 2
    hi = math.ceil(min(max(values), lo + 6) * 2) / 2

    def x(step):
        return left + (width - left - right) * step / steps

    def y(v):
        v = min(max(v, lo), hi)
        return top + (height - top - bottom) * (hi - v) / (hi - lo)

    def polyline(points, style):
        return f'<polyline fill="none" {style} points="' + " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in points) + '"/>'

    window = 20
    smooth = [(i + 1, sum(train[max(0, i - window + 1):i + 1]) / (i + 1 - max(0, i - window + 1))) for i in range(len(train))]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">offload demo model: loss (nats/token)'
             f' over {len(train)} steps, {state["seconds"] / 60:.1f} min on one CPU thread</text>']
    tick = 0.5 if hi - lo <= 4 else 1.0
    v = lo
    while v <= hi + 1e-9:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.1f}</text>')
        v += tick
    step_tick = max(1, round(steps / 6, -2)) if steps >= 300 else max(1, steps // 6)
    for s in range(0, steps + 1, int(step_tick)):
        parts.append(f'<text x="{x(s):.1f}" y="{height - bottom + 16}" text-anchor="middle">{s}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">step ({plan.batch} x 256 tokens)</text>')
    parts.append(polyline([(i + 1, v) for i, v in enumerate(train)], 'stroke="#9ecae1" stroke-width="0.8"'))
    parts.append(polyline(smooth, 'stroke="#08519c" stroke-width="2"'))
    for s, v in evals:
        parts.append(f'<circle cx="{x(s):.1f}" cy="{y(v):.1f}" r="3.5" fill="#d94801"/>')
    lx = width - right - 230
    parts += [f'<line x1="{lx}" x2="{lx + 24}" y1="{top + 20}" y2="{top + 20}" stroke="#08519c" stroke-width="2"/>',
              f'<text x="{lx + 30}" y="{top + 24}">training loss ({window}-step mean)</text>',
              f'<circle cx="{lx + 12}" cy="{top + 40}" r="3.5" fill="#d94801"/>',
              f'<text x="{lx + 30}" y="{top + 44}">held-out loss (Colossians..Revelation)</text>',
              f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}" stroke="black"/>',
              f'<line x1="{left}" x2="{width - right}" y1="{height - bottom}" y2="{height - bottom}" stroke="black"/>',
              "</svg>"]
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")
