#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Summarise a bench/run results directory: medians per measurement, ratios of edw against each
peer, fractions of the emulators' ceilings, the targets of issues 2, 4 and 6 (met or not), and
a chart. Writes summary.txt (also printed), summary.md and chart.svg into the directory.
  bench/report.py RESULTS_DIR
Standard library only."""
import html
import json
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path

SECTIONS = [("sqlite", "SQLite (embedded)"), ("azure", "Azure (Azurite)"),
            ("aws", "AWS (fauxqs + dynalite)")]

LABELS = {
    ("edw", "default"): "edw",
    ("edw", "pipelines1"): "edw --pipelines 1",
    ("edw", "pipelines4"): "edw --pipelines 4",
    ("edw", "wide"): "edw --pipelines 8 --batch 64 --concurrency 64",
    ("edw", "1 consumer"): "edw (1 consumer process)",
    ("js-sdk", "default"): "JavaScript SDK peer",
    ("py-sdk", "default"): "Python SDK peer",
    ("reference-py", "tick"): "reference sample (Python, 1 s tick)",
    ("reference-py", "no-tick"): "reference sample, tick removed",
    ("reference-js", "tick"): "reference sample (JS, 1 s tick)",
    ("reference-js", "no-tick"): "reference sample, tick removed",
    ("plain-sqlite", None): "plain SQLite program",
    ("edw", None): "edw",
}
PRODUCER_LABELS = {"edw": "edw produce", "js-sdk": "JavaScript SDK producer",
                   "py-sdk": "Python SDK producer"}
# Chart colours: edw, SDK peers, reference.
COLOURS = {"edw": "#1f77b4", "js-sdk": "#ff7f0e", "py-sdk": "#2ca02c",
           "reference-py": "#9467bd", "reference-js": "#9467bd", "plain-sqlite": "#7f7f7f"}


def label(impl, variant):
    return LABELS.get((impl, variant), f"{impl} {variant}")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, digits=0):
    if x is None:
        return "—"
    if digits == 0 and abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def rate_fmt(x):
    if x is None:
        return "—"
    return f"{x:,.0f}" if x >= 20 else f"{x:.2f}"


def load(d):
    recs = [json.loads(line) for line in (d / "results.jsonl").read_text().splitlines() if line]
    meta_path = d / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return recs, meta


def summarise(recs):
    """Medians per (kind, section, impl, variant, latency)."""
    groups = defaultdict(list)
    for r in recs:
        if r.get("kind") not in ("consume", "produce", "e2e"):
            continue
        key = (r["kind"], r["section"], r["impl"], r.get("variant"), r.get("latency_ms", 0))
        groups[key].append(r)
    out = {}
    for key, rs in groups.items():
        good = [r for r in rs if r.get("ok") == 1]
        out[key] = {
            "runs": len(good), "failed": len(rs) - len(good),
            "rate": med([r.get("rate") for r in good]),
            "cpu_1000": med([r["cpu_s"] * 1000 / r["messages"] for r in good if "cpu_s" in r]),
            "rss_mb": med([r["rss_kb"] / 1024 for r in good if "rss_kb" in r]),
            "rss_max_mb": max([r["rss_kb"] / 1024 for r in good if "rss_kb" in r], default=None),
            "anon_mb": med([r["anon_kb"] / 1024 for r in good if r.get("anon_kb")]),
            "first_ms": med([r.get("first_ms") for r in good]),
            "emu_1000": med([r["emu_cpu_s"] * 1000 / r["messages"] for r in good
                             if "emu_cpu_s" in r]),
            "messages": med([r.get("messages") for r in good]),
        }
    return out


def ceilings(recs):
    by = defaultdict(list)
    for r in recs:
        if r.get("kind") == "ceiling" and r.get("ok") == 1:
            by[(r["section"], r["impl"], r["op"])].append(r["rate"])
    c = {k: med(v) for k, v in by.items()}
    combined = {}
    az = [c.get(("azure", "azurite", op)) for op in ("receive", "delete")]
    up = max([x for x in (c.get(("azure", "azurite", "upsert")),
                          c.get(("azure", "azurite", "batch-upsert"))) if x] or [0]) or None
    if all(az) and up:
        # One Node.js process serves queue and table: the three operations share its time.
        combined["azure"] = 1 / (1 / az[0] + 1 / az[1] + 1 / up)
    sq = [c.get(("aws", "fauxqs", op)) for op in ("receive", "delete")]
    w = c.get(("aws", "dynalite", "batch-write"))
    if all(sq) and w:
        # fauxqs and dynalite are separate processes: the slower of the two sets the pace.
        combined["aws"] = min(1 / (1 / sq[0] + 1 / sq[1]), w)
    return c, combined


def get(s, kind, section, impl, variant=None, lat=0):
    return s.get((kind, section, impl, variant, lat))


VARIANTS = (("pipelines1", "--pipelines 1"), ("pipelines4", "--pipelines 4"),
            ("wide", "--pipelines 8 --batch 64 --concurrency 64"))


def targets(s, combined):
    """(section, target, measured, met) rows for issues 2, 4 and 6."""
    rows = []
    e2e = get(s, "e2e", "sqlite", "edw", None)
    cons = get(s, "consume", "sqlite", "edw", "1 consumer")
    if e2e:
        rows.append(("sqlite", "producer + 2 consumers >= 50,000 msg/s end to end",
                     f"{fmt(e2e['rate'])} msg/s", e2e["rate"] is not None and e2e["rate"] >= 50000))
        rss = e2e["rss_max_mb"]
        if rss is not None:
            rows.append(("sqlite", "consumer peak RSS <= 8 MB (producer + 2 consumers)",
                         f"{rss:.1f} MB", rss <= 8))
    if cons and cons["first_ms"] is not None:
        rows.append(("sqlite", "process start to first stored row < 20 ms",
                     f"{cons['first_ms']:.1f} ms", cons["first_ms"] < 20))
    for sec, note in (("azure", ""), ("aws", " (issue 4's targets, applied to AWS)")):
        e = get(s, "consume", sec, "edw", "default")
        if not e or e["rate"] is None:
            continue
        if sec in combined:
            f = e["rate"] / combined[sec]
            rows.append((sec, "edw >= 90 % of the emulator's ceiling" + note,
                         f"{100 * f:.0f} % ({fmt(e['rate'])} of {fmt(combined[sec])} msg/s)",
                         f >= 0.9))
            for variant, flags in VARIANTS:
                v = get(s, "consume", sec, "edw", variant)
                if v and v["rate"]:
                    f = v["rate"] / combined[sec]
                    rows.append((sec, f"  the same with {flags}" + note,
                                 f"{100 * f:.0f} % ({fmt(v['rate'])} msg/s)", f >= 0.9))
        js = get(s, "consume", sec, "js-sdk", "default")
        if js and js["cpu_1000"] and e["cpu_1000"]:
            q = js["cpu_1000"] / e["cpu_1000"]
            rows.append((sec, "edw CPU per message <= 1/20 of the JS SDK peer's" + note,
                         f"1/{q:.1f} ({e['cpu_1000']:.3f} vs {js['cpu_1000']:.3f} s/1000)",
                         q >= 20))
            for variant, flags in VARIANTS:
                v = get(s, "consume", sec, "edw", variant)
                if v and v["cpu_1000"]:
                    q = js["cpu_1000"] / v["cpu_1000"]
                    rows.append((sec, f"  the same with {flags}" + note,
                                 f"1/{q:.1f} ({v['cpu_1000']:.3f} s/1000)", q >= 20))
        priv = f", {e['anon_mb']:.1f} MB of it private" if e["anon_mb"] else ""
        rows.append((sec, "edw peak RSS < 10 MB" + note, f"{e['rss_max_mb']:.1f} MB{priv}",
                     e["rss_max_mb"] < 10))
        lat = get(s, "consume", sec, "edw", "default", 20)
        if lat and lat["rate"]:
            f = lat["rate"] / e["rate"]
            rows.append((sec, "edw with +20 ms per request keeps >= 80 % of its rate" + note,
                         f"{100 * f:.0f} % ({fmt(lat['rate'])} vs {fmt(e['rate'])} msg/s)",
                         f >= 0.8))
            for variant, flags in VARIANTS:
                lp = get(s, "consume", sec, "edw", variant, 20)
                base = get(s, "consume", sec, "edw", variant, 0)
                if lp and lp["rate"] and base and base["rate"]:
                    f = lp["rate"] / base["rate"]
                    rows.append((sec, f"  the same with {flags}" + note,
                                 f"{100 * f:.0f} % ({fmt(lp['rate'])} vs {fmt(base['rate'])} msg/s)",
                                 f >= 0.8))
    return rows


def consumer_rows(s, section, combined):
    rows = []
    keys = sorted((k for k in s if k[0] == "consume" and k[1] == section),
                  key=lambda k: (k[4], order(k[2]), k[3] or ""))
    for k in keys:
        v = s[k]
        frac = (f"{100 * v['rate'] / combined[section]:.0f} %"
                if v["rate"] and section in combined and k[4] == 0 else "—")
        rows.append([label(k[2], k[3]), f"+{k[4]} ms" if k[4] else "—", rate_fmt(v["rate"]),
                     fmt(v["cpu_1000"], 3), fmt(v["rss_mb"], 1), fmt(v["anon_mb"], 1),
                     fmt(v["first_ms"], 0),
                     fmt(v["emu_1000"], 3), frac, runs_txt(v)])
    for k in sorted(k for k in s if k[0] == "e2e" and k[1] == section):
        v = s[k]
        rows.append([label(k[2], k[3]) + (": producer + 2 consumers, end to end"
                                          if k[2] == "edw" else " (same work, end to end)"),
                     "—", rate_fmt(v["rate"]), fmt(v["cpu_1000"], 3), fmt(v["rss_max_mb"], 1),
                     "—", "—", "—", "—", runs_txt(v)])
    return rows


def order(impl):
    return ["edw", "plain-sqlite", "js-sdk", "py-sdk", "reference-js", "reference-py"].index(impl) \
        if impl in ("edw", "plain-sqlite", "js-sdk", "py-sdk", "reference-js", "reference-py") else 9


def runs_txt(v):
    return f"{v['runs']}" + (f" ({v['failed']} failed)" if v["failed"] else "")


def producer_rows(s, section):
    rows = []
    for k in sorted((k for k in s if k[0] == "produce" and k[1] == section),
                    key=lambda k: order(k[2])):
        v = s[k]
        rows.append([PRODUCER_LABELS.get(k[2], k[2]), rate_fmt(v["rate"]), fmt(v["cpu_1000"], 3),
                     fmt(v["rss_mb"], 1), fmt(v["anon_mb"], 1), runs_txt(v)])
    return rows


def ratio_rows(s, section):
    """edw (defaults, no added latency) against each peer."""
    e = get(s, "consume", section, "edw", "default") or get(s, "consume", section, "edw",
                                                            "1 consumer")
    if not e or not e["rate"]:
        return []
    rows = []
    for k, v in sorted(s.items(), key=lambda kv: order(kv[0][2])):
        if k[0] != "consume" or k[1] != section or k[2] == "edw" or k[4] != 0 or not v["rate"]:
            continue
        rows.append([label(k[2], k[3]), f"{e['rate'] / v['rate']:.1f}×",
                     f"{v['cpu_1000'] / e['cpu_1000']:.1f}×" if e["cpu_1000"] else "—",
                     f"{v['rss_mb'] / e['rss_mb']:.1f}×" if e["rss_mb"] else "—",
                     f"{v['first_ms'] / e['first_ms']:.1f}×"
                     if e["first_ms"] and v["first_ms"] else "—"])
    if section == "sqlite":
        e2e, plain = get(s, "e2e", "sqlite", "edw"), get(s, "e2e", "sqlite", "plain-sqlite")
        if e2e and plain and e2e["rate"] and plain["rate"]:
            rows.append(["plain SQLite program (end to end)", f"{e2e['rate'] / plain['rate']:.2f}×",
                         f"{plain['cpu_1000'] / e2e['cpu_1000']:.2f}×" if e2e["cpu_1000"] else "—",
                         "—", "—"])
    return rows


CONS_HEAD = ["consumer", "added latency", "msg/s", "CPU s / 1000 msg", "peak RSS MB",
             "private MB", "start to first msg (ms)", "emulator CPU s / 1000 msg", "of ceiling", "runs"]
PROD_HEAD = ["producer", "msg/s", "CPU s / 1000 msg", "peak RSS MB", "private MB", "runs"]
RATIO_HEAD = ["edw against", "edw msg/s ×", "peer CPU per msg ÷ edw's", "peer RSS ÷ edw's",
              "peer start ÷ edw's"]


def md_table(head, rows):
    if not rows:
        return ""
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def txt_table(head, rows):
    if not rows:
        return ""
    w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda r: "  ".join(str(c).ljust(w[i]) if i == 0 else str(c).rjust(w[i])
                               for i, c in enumerate(r))
    return "\n".join([line(head), line(["-" * x for x in w])] + [line(r) for r in rows]) + "\n"


def render(s, c, combined, meta, table):
    parts = []
    if meta:
        parts.append(f"{meta.get('cmd', 'bench/run')} — {meta.get('mode')} mode, "
                     f"{meta.get('runs')} run(s) each, medians; {meta.get('date')}\n"
                     f"machine: {meta.get('cores')} × {meta.get('cpu')}, Linux "
                     f"{meta.get('kernel')}, Node.js {meta.get('node')}; load average "
                     f"{meta.get('load_start')} at the start, {meta.get('load_end')} at the end; "
                     f"{meta.get('seconds')} s in all; commit {meta.get('commit')}\n"
                     f"sizes: {json.dumps(meta.get('sizes'))}\n")
    for sec, title in SECTIONS:
        cons = consumer_rows(s, sec, combined)
        if not cons:
            continue
        parts.append(("### " if table is md_table else "== ") + title + "\n")
        parts.append(table(CONS_HEAD, cons))
        ceil = [[f"{impl} {op}", rate_fmt(v)] for (se, impl, op), v in sorted(c.items())
                if se == sec]
        if ceil:
            if sec in combined:
                ceil.append(["combined ceiling for the consumer's work", rate_fmt(combined[sec])])
            parts.append(table(["emulator ceiling (operation alone)", "per s"], ceil))
        prod = producer_rows(s, sec)
        if prod:
            parts.append(table(PROD_HEAD, prod))
        ratios = ratio_rows(s, sec)
        if ratios:
            parts.append(table(RATIO_HEAD, ratios))
    t = targets(s, combined)
    if t:
        parts.append(("### " if table is md_table else "== ") + "Targets\n")
        parts.append(table(["backend", "target", "measured", "met"],
                           [[a, b, m, "yes" if ok else "**no**" if table is md_table else "NO"]
                            for a, b, m, ok in t]))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Chart: one row of three panels (msg/s, CPU s per 1000 msg, peak RSS MB) per backend, log
# scales (the reference sample is three orders of magnitude away from edw).

def tick(v):
    return f"{v / 1000:g}k" if v >= 10000 else f"{v:g}"


def chart(s, combined, meta):
    panels = [("msg/s (higher is better)", "rate"), ("CPU s per 1000 msg (lower is better)",
                                                     "cpu_1000"),
              ("peak RSS MB (lower is better)", "rss_mb")]
    blocks = []
    for sec, title in SECTIONS:
        bars = []
        for k in sorted((k for k in s if k[0] == "consume" and k[1] == sec),
                        key=lambda k: (k[4], order(k[2]), k[3] or "")):
            v = s[k]
            if v["rate"] is None:
                continue
            name = label(k[2], k[3]) + (f" +{k[4]} ms" if k[4] else "")
            bars.append((name, k[2], v))
        if sec == "sqlite":
            for k in sorted(k for k in s if k[0] == "e2e" and k[1] == "sqlite"):
                v = dict(s[k])
                v["rss_mb"] = v["rss_max_mb"] if k[2] == "edw" else v["rss_mb"]
                bars.append((label(k[2], k[3]) + (" producer + 2 consumers" if k[2] == "edw"
                                                  else " (end to end)"), k[2], v))
        if bars:
            blocks.append((title, bars, combined.get(sec)))
    if not blocks:
        return ""
    label_w, panel_w, gap, bar_h = 250, 220, 50, 16
    width = label_w + 3 * (panel_w + gap) + 10
    y = 50
    out = []
    for title, bars, ceiling in blocks:
        out.append(f'<text x="10" y="{y}" class="h">{html.escape(title)}</text>')
        y += 10
        top = y
        for i, (name, impl, _) in enumerate(bars):
            out.append(f'<text x="{label_w - 6}" y="{top + i * (bar_h + 4) + 12}" '
                       f'text-anchor="end">{html.escape(name)}</text>')
        for p, (ptitle, field) in enumerate(panels):
            x0 = label_w + p * (panel_w + gap)
            vals = [b[2][field] for b in bars if b[2][field]]
            if field == "rate" and ceiling:
                vals.append(ceiling)
            if not vals:
                continue
            lo = 10 ** math.floor(math.log10(min(vals)))
            hi = 10 ** math.ceil(math.log10(max(vals) * 1.01))
            if hi <= lo:
                hi = lo * 10
            sx = lambda v: x0 + panel_w * (math.log10(v) - math.log10(lo)) / (
                math.log10(hi) - math.log10(lo))
            h = len(bars) * (bar_h + 4)
            d = lo
            while d <= hi * 1.0001:
                out.append(f'<line x1="{sx(d):.1f}" y1="{top - 2}" x2="{sx(d):.1f}" '
                           f'y2="{top + h}" class="grid"/>')
                out.append(f'<text x="{sx(d):.1f}" y="{top + h + 12}" text-anchor="middle" '
                           f'class="s">{tick(d)}</text>')
                d *= 10
            for i, (name, impl, v) in enumerate(bars):
                if not v[field]:
                    continue
                yy = top + i * (bar_h + 4)
                w = max(1.0, sx(v[field]) - x0)
                out.append(f'<rect x="{x0}" y="{yy}" width="{w:.1f}" height="{bar_h}" '
                           f'fill="{COLOURS.get(impl, "#444")}"/>')
                txt = rate_fmt(v[field]) if field == "rate" else fmt(
                    v[field], 3 if field == "cpu_1000" else 1)
                out.append(f'<text x="{x0 + w + 3:.1f}" y="{yy + 12}" class="s">{txt}</text>')
            if field == "rate" and ceiling:
                out.append(f'<line x1="{sx(ceiling):.1f}" y1="{top - 4}" x2="{sx(ceiling):.1f}" '
                           f'y2="{top + h}" class="ceil"/>')
                out.append(f'<text x="{sx(ceiling):.1f}" y="{top - 6}" text-anchor="middle" '
                           f'class="s">emulator ceiling {rate_fmt(ceiling)}</text>')
        y = top + len(bars) * (bar_h + 4) + 40
    head = []
    for p, (ptitle, _) in enumerate(panels):
        head.append(f'<text x="{label_w + p * (panel_w + gap)}" y="24" class="b">'
                    f'{html.escape(ptitle)}</text>')
    sub = (f'{html.escape(meta.get("cmd", "bench/run"))}: medians of {meta.get("runs")} run(s), '
           f'{meta.get("cores")} cores, load {html.escape(str(meta.get("load_start")))}; '
           f'log scales') if meta else "log scales"
    height = y
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">\n'
            '<style>.h{font-size:13px;font-weight:bold}.b{font-weight:bold}.s{font-size:9px;'
            'fill:#333}.grid{stroke:#ddd}.ceil{stroke:#d62728;stroke-dasharray:4 3}</style>\n'
            f'<rect width="{width}" height="{height}" fill="white"/>\n'
            + "\n".join(head) + "\n"
            + f'<text x="10" y="{height - 8}" class="s">{sub}</text>\n'
            + "\n".join(x for x in out if x) + "\n</svg>\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = Path(sys.argv[1])
    recs, meta = load(d)
    s = summarise(recs)
    c, combined = ceilings(recs)
    txt = render(s, c, combined, meta, txt_table)
    (d / "summary.txt").write_text(txt)
    (d / "summary.md").write_text(render(s, c, combined, meta, md_table))
    svg = chart(s, combined, meta)
    if svg:
        (d / "chart.svg").write_text(svg)
    skipped = [r["what"] for r in recs if r.get("kind") == "skipped"]
    print(txt)
    if skipped:
        print("skipped: " + "; ".join(skipped))


if __name__ == "__main__":
    main()
