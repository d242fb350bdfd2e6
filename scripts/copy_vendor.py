"""Copy pinned front-end files from node_modules/ into static/vendor/ (run by `make setup`).

The packages and versions come from package.json / package-lock.json; nothing
is loaded from a CDN at run time (§3).
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = {
    "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
    "canvas-confetti/dist/confetti.browser.js": "confetti/confetti.browser.js",
    "chart.js/dist/chart.umd.js": "chartjs/chart.umd.js",
    # chart.umd.js ends with a sourceMappingURL: without the map, opening devtools logs a 404 (admin dashboard)
    "chart.js/dist/chart.umd.js.map": "chartjs/chart.umd.js.map",
    "axe-core/axe.min.js": "axe/axe.min.js",
    "@picocss/pico/css/pico.min.css": "pico/pico.min.css",
}


def main() -> int:
    missing = []
    for src, dst in FILES.items():
        source = ROOT / "node_modules" / src
        target = ROOT / "static" / "vendor" / dst
        if not source.exists():
            missing.append(src)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    if missing:
        print("missing in node_modules (run npm ci):", ", ".join(missing), file=sys.stderr)
        return 1
    print(f"copied {len(FILES)} front-end files into static/vendor/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
