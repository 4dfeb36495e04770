#!/usr/bin/env python3
"""Side by side: vigie against the Python stack a team would otherwise assemble for the same
work — trafilatura (main text), langdetect (language), vaderSentiment (sentiment), keyword
brand matching, SQLite FTS5 (search index) — measured in the same run, on the same machine,
on the same inputs.

Usage, from the repository root (needs ../shared/corpora and a release build):

    cargo build --release
    python3 benches/compare_python.py            # 800 real pages, as in BENCHMARKS.md
    python3 benches/compare_python.py --pages 200

The Python packages are installed into a virtual environment in the system temp folder on
first use (network needed once). Figures: wall time, pages/s, MB/s, peak RSS of each side.
"""
import argparse, glob, gzip, json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPORA = os.path.join(ROOT, "..", "shared", "corpora")
VENV = os.path.join(tempfile.gettempdir(), "vigie-compare-venv")
PACKAGES = ["trafilatura", "lxml_html_clean", "vaderSentiment", "langdetect", "feedparser"]

WORKER = r'''
import json, sqlite3, sys, tomllib, glob, os
import trafilatura
from langdetect import detect, DetectorFactory
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
DetectorFactory.seed = 0
src, db_path, pipelines = sys.argv[1], sys.argv[2], sys.argv[3]
brands = []
for p in sorted(glob.glob(os.path.join(pipelines, "*.toml"))):
    brands += tomllib.load(open(p, "rb")).get("brands", [])
vader = SentimentIntensityAnalyzer()
db = sqlite3.connect(db_path)
db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(url UNINDEXED, title, body, lang UNINDEXED, brands, score UNINDEXED)")
# a document's row by its address, so that a document read again replaces its row without a scan
db.execute("CREATE TABLE IF NOT EXISTS urls(url TEXT PRIMARY KEY, id INTEGER)")
with open(src, encoding="utf-8") as f:
    for line in f:
        d = json.loads(line)
        text = d.get("text") or trafilatura.extract(d.get("html", ""), url=d["url"]) or ""
        try:
            lang = detect(text[:2000]) if text.strip() else "und"
        except Exception:
            lang = "und"
        score = vader.polarity_scores(text[:5000])["compound"]
        low = text.lower()
        found = [b["id"] for b in brands if any(a.lower() in low for a in b.get("aliases", []) + b.get("ambiguous", []))]
        old = db.execute("SELECT id FROM urls WHERE url = ?", (d["url"],)).fetchone()
        if old:
            db.execute("DELETE FROM docs WHERE rowid = ?", old)
        row = db.execute("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)", (d["url"], d.get("title", ""), text, lang, " ".join(found), score)).lastrowid
        db.execute("INSERT OR REPLACE INTO urls VALUES (?, ?)", (d["url"], row))
db.commit()
'''


def venv_python():
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        print(f"setting up the Python stack in {VENV} …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q"] + PACKAGES, check=True)
    return py


def pages(n):
    files = sorted(glob.glob(os.path.join(CORPORA, "article_extraction_benchmark", "html", "*.gz"))) + \
            sorted(glob.glob(os.path.join(CORPORA, "trafilatura_eval_en_fr", "html", "*.gz")))
    if not files:
        sys.exit(f"no pages under {CORPORA}: this comparison needs the public corpora next to the repository")
    out = []
    for i in range(n):
        html = gzip.open(files[i % len(files)]).read().decode("utf-8", "replace")
        out.append({"url": f"https://pages.example/{i}", "html": html, "published": "2026-09-01T10:00:00Z", "source": "bench"})
    return out


def run_measured(cmd):
    # a fresh child per measurement, so its peak RSS is its own
    wrapper = [sys.executable, "-c", "import resource, subprocess, sys, time, json\n"
               "t = time.time(); r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
               "w = time.time() - t\n"
               "print(json.dumps({'code': r.returncode, 'wall': w, 'rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 'err': r.stderr[-300:]}))"] + cmd
    r = subprocess.run(wrapper, capture_output=True, text=True)
    m = json.loads(r.stdout)
    if m["code"] not in (0, 1):
        sys.exit(f"{cmd[0]} failed: {m['err']}")
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=800)
    ap.add_argument("--vigie", default=os.path.join(ROOT, "target", "release", "vigie"))
    args = ap.parse_args()
    if not os.path.exists(args.vigie):
        sys.exit("build vigie first: cargo build --release")
    py = venv_python()
    work = tempfile.mkdtemp(prefix="vigie-compare-")
    stream = os.path.join(work, "pages.jsonl")
    with open(stream, "w") as f:
        for d in pages(args.pages):
            f.write(json.dumps(d) + "\n")
    mb = os.path.getsize(stream) / 1e6
    pipelines = os.path.join(work, "pipelines")
    os.makedirs(pipelines)
    with open(os.path.join(pipelines, "w.toml"), "w") as f:
        f.write('name = "bench"\n[[brands]]\nid = "orange"\naliases = ["Livebox", "Sosh"]\nambiguous = ["Orange"]\n'
                'context = ["réseau", "forfait", "network"]\ncase_sensitive = true\n[[brands]]\nid = "google"\naliases = ["Google"]\n')
    worker = os.path.join(work, "python_stack.py")
    with open(worker, "w") as f:
        f.write(WORKER)
    v = run_measured([args.vigie, "-q", "--data", os.path.join(work, "v"), "--pipelines", pipelines, "ingest", stream])
    p = run_measured([py, worker, stream, os.path.join(work, "p.db"), pipelines])
    print(f"{args.pages} real pages, {mb:.0f} MB of JSON Lines (HTML of the public extraction benchmarks)")
    print(f"{'':24}{'seconds':>10}{'pages/s':>10}{'MB/s':>8}{'peak RSS MB':>13}")
    for name, m in (("vigie ingest", v), ("Python stack", p)):
        print(f"{name:24}{m['wall']:>10.2f}{args.pages / m['wall']:>10.0f}{mb / m['wall']:>8.1f}{m['rss_mb']:>13.0f}")
    print(f"vigie is {p['wall'] / v['wall']:.1f}x faster")


if __name__ == "__main__":
    main()
