"""Print the results a timings.py run wrote as a Markdown table (p50 / p95 in ms, one column per role).

    python bench/report.py /tmp/bench/timings-sqlite.json [/tmp/bench/timings-postgresql.json ...]
"""
from __future__ import annotations

import json
import sys


def table(data: dict) -> str:
    results = data["results"]
    roles = list(dict.fromkeys(r["role"] for r in results if r["role"] != "baseline"))
    cases = list(dict.fromkeys(r["case"] for r in results if r["role"] != "baseline"))
    cell = {(r["role"], r["case"]): r for r in results}
    lines = [f"**{data['database']}**, {data['customers']:,} customers, {data['date']}, "
             f"load average at the end {data.get('load_average_end', '?')}", ""]
    for r in results:
        if r["role"] == "baseline":
            lines.append(f"* baseline {r['case']}: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms")
    lines += ["", "| case (p50 / p95 ms) | " + " | ".join(roles) + " |", "|---" * (len(roles) + 1) + "|"]
    for case in cases:
        row = []
        for role in roles:
            r = cell.get((role, case))
            if r is None:
                row.append("")
            elif "error" in r:
                row.append("error")
            else:
                row.append(f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f}")
        lines.append(f"| {case} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(paths):
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            print(table(json.load(fh)))
        print()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
