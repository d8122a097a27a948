"""docs/performance.md and the README's table of targets, written from the benchmarks' JSON.

    python bench/report.py bench/results            # print docs/performance.md
    python bench/report.py bench/results --write    # write it, and the README's table

`make bench` runs every benchmark with --json into bench/results/ and then this; nothing in
either document is typed by hand, and tests/test_docs.py checks both match the results.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from report_sections import SECTIONS  # noqa: E402

README_BEGIN = "<!-- targets: written by bench/report.py from bench/results -->"
README_END = "<!-- end of targets -->"
RELIABILITY_BEGIN = "<!-- reliability: written by bench/report.py from bench/results -->"
RELIABILITY_END = "<!-- end of reliability -->"


def redaction_targets(r: dict[str, list[dict[str, Any]]]) -> list[Target]:
    """Recall, what research cameras keep, and what people-free pictures lose, per purpose
    (rows without a purpose are from before purposes: a floor camera's)."""
    out = []
    recall = {
        (row["detector"], row.get("purpose", "floor")): row for row in r.get("redaction_recall", [])
    }
    cf = next((row for (d, _), row in recall.items() if d == "centerface"), None)
    for (detector, purpose), ours in sorted(recall.items()):
        if detector != "veilcam":
            continue
        out.append(
            Target(
                f"{purpose}: faces at least 20 px wide obscured ({ours['faces']} faces)",
                f"{ours['recall']:.3f}",
                f"CenterFace: {cf['recall']:.3f}" if cf else "CenterFace: not run",
                ">= 0.99",
                ours["recall"] >= 0.99,
            )
        )
        if purpose == "research" and "changed_mean" in ours:
            limit = min(0.25, 1.2 * cf["changed_mean"]) if cf else 0.25
            out.append(
                Target(
                    "research: share of each face picture changed (mean)",
                    f"{ours['changed_mean']:.1%}",
                    f"CenterFace: {cf['changed_mean']:.1%}" if cf else "-",
                    "<= 25% and <= 1.2x CenterFace",
                    ours["changed_mean"] <= limit,
                )
            )
    empty = {(row["detector"], row["purpose"]): row for row in r.get("redaction_empty", [])}
    theirs = next((v for (d, _), v in empty.items() if d == "centerface"), None)
    for (detector, purpose), row in sorted(empty.items()):
        if detector == "veilcam":
            out.append(
                Target(
                    f"{purpose}: picture changed without people (worst picture)",
                    f"{row['max_changed']:.2%}",
                    f"CenterFace: {theirs['max_changed']:.2%}" if theirs else "-",
                    "< 0.5%",
                    row["max_changed"] < 0.005,
                )
            )
    for row in r.get("redaction_hands", []):
        boxes = [b for p in row["pictures"] for b in p["excluded_boxes_obscured"]]
        if row["detector"] == "veilcam" and boxes:
            out.append(
                Target(
                    f"{row['purpose']}: hands holding products obscured (least of {len(boxes)})",
                    f"{min(boxes):.0%}",
                    "-",
                    ">= 40%",
                    min(boxes) >= 0.4,
                )
            )
    return out


def stock_targets(r: dict[str, list[dict[str, Any]]]) -> list[Target]:
    """Stock monitoring: analysis time beside the redaction of the same still, and the
    evaluation set's accuracy, compliance error, gate and hands in front."""
    out = []
    for row in r.get("stock", []):
        if row["kernels"] != "native":
            continue
        out.append(
            Target(
                row["measure"],
                f"{row['ours_ms']:.1f} ms",
                f"{row['anchor']}: {row['anchor_ms']:.0f} ms",
                f"< {row['target_ms']:.0f} ms",
                row["ours_ms"] < row["target_ms"],
            )
        )
    for row in r.get("stock_eval", []):
        n = f"{row['scenes']} scenes, {row['facings']} facings"
        out += [
            Target(
                f"stock: facing state accuracy on stills that pass the gate ({n})",
                f"{row['state_accuracy']:.1%}",
                f"every facing called full: {row['naive_accuracy']:.1%}",
                ">= 95%",
                row["state_accuracy"] >= 0.95,
            ),
            Target(
                "stock: compliance error (points, mean / max); gate precision / recall; "
                "facings with a hand or redaction in front called empty",
                f"{row['compliance_error_mean']:.1f} / {row['compliance_error_max']:.1f}; "
                f"{row['gate_precision']:.2f} / {row['gate_recall']:.2f}; "
                f"{row['in_front_reported_empty']}",
                "-",
                "mean <= 5; >= 0.95 / >= 0.95; 0",
                row["compliance_error_mean"] <= 5
                and row["gate_precision"] >= 0.95
                and row["gate_recall"] >= 0.95
                and row["in_front_reported_empty"] == 0,
            ),
        ]
    return out


def load(folder: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        out[path.stem] = [json.loads(line) for line in path.read_text().splitlines() if line]
    return out


@dataclass(frozen=True)
class Target:
    what: str
    measured: str
    anchor: str
    target: str
    met: bool | None  # None: no verdict (a figure for information)


def _n(value: float, digits: int = 3) -> str:
    return f"{value:,.{digits}g}" if abs(value) < 10**digits else f"{value:,.0f}"


def targets(r: dict[str, list[dict[str, Any]]]) -> list[Target]:
    out: list[Target] = []
    core = {row["case"]: row for row in r.get("core", [])}
    for case, row in core.items():
        if row["bench"] == "sensor_parse" and case == "protocol 2 (CRC-16)":
            out.append(
                Target(
                    "sensor-line parsing, one core",
                    f"{_n(row['ours'])} lines/s",
                    f"`bytes.split`: {_n(row['anchor_value'])} lines/s",
                    row["target"],
                    row["met"],
                )
            )
        elif row["bench"] == "sqlite_ingest":
            out.append(
                Target(
                    f"ingest: {case}",
                    f"{_n(row['ours'])} {row['unit']}",
                    f"{row['anchor']}: {_n(row['anchor_value'])}",
                    row["target"],
                    row["met"],
                )
            )
        elif row["bench"] == "daemon_memory":
            out.append(
                Target(
                    case,
                    f"{row['ours']:.0f} MB",
                    f"{row['anchor']}: {row['anchor_value']:.0f} MB",
                    row["target"],
                    row["met"],
                )
            )
    for row in r.get("kernels", []):
        target = row.get("target_ratio", 1.0)
        if target is None:
            continue
        out.append(
            Target(
                f"{row['kernel']}: {row['case']}",
                f"{row['ours_ms']:.3f} ms",
                f"{row['anchor']}: {row['anchor_ms']:.3f} ms",
                f"ratio <= {target:g}",
                row["ratio"] <= target,
            )
        )
    out += redaction_targets(r)
    for row in r.get("vision", []):
        if "profile" in row:  # another board's path on this CPU: reported beside ours
            out.append(
                Target(
                    row["measure"],
                    f"{row['ours_ms']:.0f} ms",
                    f"{row['anchor']}: {row['anchor_ms']:.0f} ms",
                    "reported (a GPU's figure on a Jetson)",
                    None,
                )
            )
        elif "ours_ms" in row:
            out.append(
                Target(
                    row["measure"],
                    f"{row['ours_ms']:.0f} ms",
                    f"{row['anchor']}: {row['anchor_ms']:.0f} ms" if row["anchor_ms"] else "-",
                    f"<= {row['target_ms']} ms",
                    row["ours_ms"] <= row["target_ms"],
                )
            )
        else:
            out.append(
                Target(
                    row["measure"],
                    f"{row['ours_fps']:.1f} fps",
                    f"{row['anchor']}: {row['anchor_fps']:.1f} fps" if row["anchor_fps"] else "-",
                    f">= {row['target_fps']} fps",
                    row["ours_fps"] >= row["target_fps"],
                )
            )
    for row in r.get("signin_load", []):
        measured = (
            f"p99 {row['ours']:.1f} ms, {row['errors']} errors"
            if row["unit"] == "ms" and "errors" in row
            else f"{'accepted' if row['met'] else 'refused'} in {row['ours']:.0f} ms"
        )
        anchor = (
            f"{row['anchor']}: p99 {row['anchor_value']:.1f} ms"
            if "errors" in row
            else f"answer {row['anchor_value']}"
        )
        out.append(
            Target(
                f"sign-in guessing: {row['case']}",
                measured,
                anchor,
                row["target"],
                bool(row["met"]),
            )
        )
    out += stock_targets(r)
    for row in r.get("clips", []):
        if "ours_fps" in row:
            out.append(
                Target(
                    row["measure"],
                    f"{row['ours_fps']:.1f} fps, {row['dropped_share']:.1%} of slots dropped",
                    f"{row['anchor']}: {row['anchor_fps']:.0f} fps",
                    f">= {row['target_fps']:g} fps, drops reported",
                    row["ours_fps"] >= 0.97 * row["target_fps"],
                )
            )
        else:
            out.append(
                Target(
                    row["measure"],
                    f"{row['ours_mb_s']:.1f} MB/s",
                    f"{row['anchor']}: {row['anchor_mb_s']:.1f} MB/s",
                    "-",
                    None,
                )
            )
    for row in r.get("web", []):
        out.append(
            Target(
                f"web: {row['page']} at {row['rate']} requests/s",
                f"p99 {row['p99_ms']:.1f} ms, {row['errors']} errors",
                f"{row['anchor']}: p99 {row['anchor_p99_ms']:.1f} ms",
                f"p99 < {row['target_p99_ms']} ms",
                bool(row["meets"]),
            )
        )
    return out


def _mark(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "-"}[met]


def machine_line(r: dict[str, list[dict[str, Any]]]) -> str:
    m = (r.get("machine") or [{}])[0]
    cpu = m.get("cpu", {})
    simd = "AVX-512" if cpu.get("avx512") else "AVX2" if cpu.get("avx2") else "no x86 SIMD"
    return (
        f"{m.get('date', '?')}, {cpu.get('model', '?')} ({cpu.get('cores', '?')} cores, {simd}), "
        f"Python {m.get('python', '?')}, kernels {m.get('kernels', '?')}, "
        f"commit {m.get('commit', '?')}"
    )


def table(rows: list[Target]) -> list[str]:
    out = ["| target | measured | anchor in the same run | goal | |", "|---|---|---|---|---|"]
    out += [f"| {t.what} | {t.measured} | {t.anchor} | {t.target} | {_mark(t.met)} |" for t in rows]
    return out


def merged(rows: list[Target]) -> list[Target]:
    """The README's shorter table: the people-free rows of every purpose as one, and each
    purpose's still and stream as one (docs/performance.md keeps them apart)."""
    out: list[Target] = []
    empty = [t for t in rows if t.what.endswith(": picture changed without people (worst picture)")]
    for t in rows:
        if t in empty:
            if t is not empty[0]:
                continue
            t = Target(
                "picture changed without people, worst picture per purpose",
                ", ".join(f"{e.what.split(':')[0]} {e.measured}" for e in empty),
                t.anchor,
                t.target,
                all(e.met for e in empty),
            )
        elif ": 1280x720 stream" in t.what and out and ": 1920x1080 still" in out[-1].what:
            still = out.pop()
            t = Target(
                f"{t.what.split(':')[0]}: 1080p still (one core) / 720p stream (two cores)",
                f"{still.measured} / {t.measured}",
                f"CenterFace: {still.anchor.rsplit(': ', 1)[-1]} / {t.anchor.rsplit(': ', 1)[-1]}",
                f"{still.target} / {t.target}",
                bool(still.met and t.met),
            )
        out.append(t)
    return out


def readme_block(r: dict[str, list[dict[str, Any]]]) -> str:
    lines = [README_BEGIN, "", f"Measured {machine_line(r)}:", ""]
    picked = [
        t
        for t in targets(r)
        if t.met is not None
        and not t.what.startswith(
            ("ingest:", "box_blur", "gaussian", "pixelate", "fill", "topk", "warp_affine")
        )
    ]
    lines += table(merged(picked))
    lines += [
        "",
        "The kernels against OpenCV and faiss, every other figure, and how each is taken:",
        "[docs/performance.md](docs/performance.md).",
        "",
    ]
    return "\n".join(lines + [README_END])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return "" if value is None else str(value).replace("|", "\\|")


def performance(r: dict[str, list[dict[str, Any]]]) -> str:
    lines = [
        "# Performance",
        "",
        "Written by `bench/report.py` from the JSON in `bench/results/` that `make bench` "
        "leaves; not edited by hand. Each figure is measured beside its anchor in the same "
        "run and reported as a ratio where there is one.",
        "",
        f"Measured {machine_line(r)}.",
        "",
        "## Targets",
        "",
        *table(targets(r)),
    ]
    for name, (title, how, columns) in SECTIONS.items():
        rows = r.get(name)
        if not rows:
            continue
        cols = [c for c in columns if any(c in row for row in rows)]
        lines += ["", f"## {title}", "", how, ""]
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(_cell(row.get(c)) for c in cols) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def reliability_block(r: dict[str, list[dict[str, Any]]]) -> str:
    """The README's reliability table: what the kill -9 run found."""
    lines = [RELIABILITY_BEGIN, ""]
    for row in r.get("chaos", []):
        lines += [
            f"`bench/chaos.py`: {row['kills']} SIGKILLs at random moments while the daemon "
            f"wrote ~{row['lines_sent_per_s']:,} sensor lines/s, a picture a second and "
            f"web sign-ins, each followed by a restart ({row['seconds']} s in all; "
            f"{row['pictures']:,} pictures and {row['readings']:,} readings stored; "
            f"{'a clean stop' if row['clean_final_stop'] else 'NO clean stop'} at the end):",
            "",
            "| after every kill and restart | found |",
            "|---|---|",
            f"| committed rows lost | {row['committed_rows_lost']} |",
            f"| `PRAGMA integrity_check` | {'ok' if row['integrity_ok'] else 'FAILED'} |",
            f"| audit chain ({row['audit_entries']:,} entries) | "
            f"{'intact' if row['audit_chain_ok'] else 'BROKEN'} |",
            f"| media files without a row / rows without a file, at the end | "
            f"{row['orphan_files_left']} / {row['rows_without_file']} "
            f"({row['orphans_swept_at_restarts']} swept at restarts) |",
            "",
        ]
    return "\n".join(lines + [RELIABILITY_END])


def _between(text: str, begin: str, end: str, block: str) -> str:
    head, sep, rest = text.partition(begin)
    if not sep:
        raise SystemExit(f"README.md has no {begin!r} line to write under")
    _, sep, tail = rest.partition(end)
    if not sep:
        raise SystemExit(f"README.md has no {end!r} line after {begin!r}")
    return head + block + tail


def with_readme(readme: str, block: str, reliability: str | None = None) -> str:
    out = _between(readme, README_BEGIN, README_END, block)
    if reliability is not None:
        out = _between(out, RELIABILITY_BEGIN, RELIABILITY_END, reliability)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", type=Path)
    p.add_argument("--write", action="store_true", help="write docs/performance.md and README.md")
    args = p.parse_args()
    r = load(args.results)
    if not r:
        raise SystemExit(f"no benchmark results in {args.results}: run `make bench`")
    doc = performance(r)
    if not args.write:
        sys.stdout.write(doc)
        return 0
    (ROOT / "docs" / "performance.md").write_text(doc)
    readme = ROOT / "README.md"
    readme.write_text(with_readme(readme.read_text(), readme_block(r), reliability_block(r)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
