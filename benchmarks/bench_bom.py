"""Benchmark: reading a generated 50,000-line French purchase list (CSV, cp1252, ';', decimal
commas, HS codes, origins) with read_bom. Target: < 5 s on the project machine.

Run: .venv/bin/python benchmarks/bench_bom.py [--lines 50000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching.bom import read_bom  # noqa: E402

WORDS = ["Roulement", "Vis", "Écrou", "Tôle", "Câble", "Moteur", "Joint", "Profilé", "Tube", "Ressort", "Carton", "Peinture"]
QUALS = ["inox A4", "acier zingué", "aluminium 6063", "cuivre", "NBR", "époxy", "M8", "6204 2RS", "2 mm", "0,75 kW"]
CODES = ["8482.10.10", "7318 15 88", "7209 16 90", "85444993", "4016.93", "8501 52", "7604.29", "3208.90"]
ORIGINS = ["Chine", "China", "CN", "Allemagne", "Turquie", "Italie", "Inde", "Vietnam"]


def make_csv(path: Path, n: int, seed: int = 0) -> None:
    rnd = random.Random(seed)
    out = ["Achats importés 2025;;;;;", ";;;;;", "Désignation;Code douanier;Pays d'origine;Quantité;Valeur annuelle (€);Fournisseur"]
    for i in range(n):
        desc = f"{rnd.choice(WORDS)} {rnd.choice(QUALS)} réf {i}"
        qty = f"{rnd.randint(1, 99)} {rnd.randint(100, 999)}" if rnd.random() < 0.5 else str(rnd.randint(1, 999))
        val = f"{rnd.randint(1, 999)} {rnd.randint(100, 999)},{rnd.randint(0, 99):02d}"
        out.append(f"{desc};{rnd.choice(CODES)};{rnd.choice(ORIGINS)};{qty};{val};Fournisseur {i % 300}")
    out.append(";;;;Total;")
    path.write_bytes(("\r\n".join(out) + "\r\n").encode("cp1252"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "bench.csv"
        make_csv(p, args.lines)
        size = p.stat().st_size
        times, cpu = [], []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            res = read_bom(p)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        n_items = len(res.items)
    best, worst = min(times), max(times)
    print(f"bom.read_bom: {args.lines:,} lines ({size / 2**20:.1f} MiB cp1252 CSV) -> {n_items:,} items")
    print(f"bom.read_bom: wall best {best:.2f} s, worst {worst:.2f} s over {args.repeat} runs ({args.lines / best:,.0f} lines/s)")
    print(f"bom.read_bom: cpu best {min(cpu):.2f} s (wall time includes waiting for other processes on a shared machine)")
    if n_items != args.lines:
        print(f"bom.read_bom: ERROR expected {args.lines} items, got {n_items}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
