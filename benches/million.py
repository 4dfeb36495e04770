#!/usr/bin/env python3
"""A million short posts on one machine: ingest speed and peak memory, index size, search
latency through `vigie serve`'s `/api/search`, digest time, and the ratio to the Python stack
(benches/compare_python.py's: langdetect, VADER, keyword brands, SQLite FTS5) on a slice of
the same posts, both measured in the same run. Every figure is checked against its target
(the script exits 1 when one is missed) and against the work being done (a fast wrong answer
fails too: every post indexed, searches that find what the corpus holds, digests that count
the brand mentions).

Usage, from the repository root (needs ../shared/corpora and a release build):

    cargo build --release
    python3 benches/million.py                  # 1,000,000 posts, as in BENCHMARKS.md
    python3 benches/million.py --docs 200000    # quicker

The posts are real sentences of the public corpora (VADER tweets and snippets, DEFT-2017
French tweets, customer complaints, SemEval suggestions, airline tweets, Allociné reviews)
recombined: 2 to 4 sentences of one language a post, a brand of the watch below in about a
fifth of them, published over the 90 days before the run. Building them is not timed.
"""
import argparse, csv, html, http.client, json, os, random, re, shutil, socket, statistics, subprocess, sys, tempfile, time
import urllib.parse
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_python as cp  # noqa: E402  (the Python stack and its virtual environment)

C = cp.CORPORA
TARGETS = {"docs_s": 4000, "rss_mb": 1536, "p99_ms": 20.0, "digest_s": 2.0, "ratio": 20.0}
BRANDS = {
    "sncf": ["SNCF", "@SNCF", "Ouigo", "TGV inOui"],
    "laposte": ["La Poste", "@laposte", "Colissimo", "Chronopost"],
    "decathlon": ["Decathlon", "@Decathlon", "Quechua"],
    "airfrance": ["Air France", "@airfrance", "#AirFrance"],
    "fnac": ["Fnac", "@Fnac", "Fnac Darty"],
}
WATCH = """name = "million"
{brands}
[[topics]]
id = "retards"
query = '(retard OR delay OR delayed) NEAR/5 (train OR vol OR flight OR colis OR package)'

[digest]
at = "07:00"
timezone = "Europe/Paris"
to = ["veille@example.com"]

[alerts]
channels = ["log"]
"""
SPLIT = re.compile(r"(?<=[.!?…])\s+")
WORD = re.compile(r"[^\W\d_]+")


def sentences():
    pools = {"en": [], "fr": []}

    def add(lang, texts):
        for t in texts:
            for s in SPLIT.split(html.unescape(t).replace("\n", " ")):
                s = " ".join(s.split())
                if 3 <= len(s.split()) <= 45:
                    pools[lang].append(s)

    v = os.path.join(C, "vader_icwsm2014")
    for f in ("tweets", "amazonReviewSnippets", "movieReviewSnippets", "nytEditorialSnippets"):
        add("en", [l.split("\t")[2] for l in open(os.path.join(v, f + "_GroundTruth.txt"), encoding="utf-8", errors="replace") if l.count("\t") >= 2])
    d = os.path.join(C, "fr_tweets_deft2017_umsab")
    add("fr", [l for f in ("train_text.txt", "val_text.txt") for l in open(os.path.join(d, f), encoding="utf-8")])
    add("en", [r[1] for r in csv.reader(open(os.path.join(C, "complaints_preotiuc2019", "complaints-data.csv"), encoding="utf-8", errors="replace")) if len(r) > 1])
    s = os.path.join(C, "suggestions_semeval2019_task9", "subtaskA")
    add("en", [r[1].strip('"') for f in sorted(os.listdir(s)) if f.endswith(".csv")
               for r in csv.reader(open(os.path.join(s, f), encoding="utf-8", errors="replace")) if len(r) > 2 and r[0] != "id"])
    add("en", [json.loads(l)["text"] for l in open(os.path.join(C, "airline_tweets_crowdflower", "airline_sentiment.train.jsonl"), encoding="utf-8")])
    add("fr", [json.loads(l)["text"] for l in open(os.path.join(C, "allocine_tv_fr", "allocine_tv_fr.train.jsonl"), encoding="utf-8")])
    for lang in pools:
        pools[lang] = list(dict.fromkeys(pools[lang]))
    return pools


def build_corpus(path, slice_path, n, slice_n, pools):
    rng = random.Random(20)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    span = 90 * 86400.0
    step = max(1, n // slice_n)
    with open(path, "w", encoding="utf-8") as out, open(slice_path, "w", encoding="utf-8") as sl:
        for i in range(n):
            lang = "fr" if rng.random() < 0.3 else "en"
            parts = rng.sample(pools[lang], rng.randint(2, 4))
            if rng.random() < 0.2:
                alias = rng.choice(BRANDS[rng.choice(list(BRANDS))])
                parts[0] = f"{alias} : {parts[0]}" if lang == "fr" else f"{alias}: {parts[0]}"
            when = now - timedelta(seconds=span - (i + rng.random()) * span / n)
            line = json.dumps({"url": f"https://posts.example/{lang}/{i}", "title": " ".join(parts[0].split()[:8]),
                               "text": " ".join(parts), "published": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "source": "bench", "author": f"user{rng.randrange(60000)}", "lang": lang}, ensure_ascii=False)
            out.write(line + "\n")
            if i % step == 0 and i // step < slice_n:
                sl.write(line + "\n")


def queries(pools, k):
    """The mix: words of each language, two words, phrases, OR, NEAR/5, brand and 7-day
    filters, prefixes; every word taken from the corpus."""
    rng = random.Random(1818)
    vocab = {}
    for lang in pools:
        counts = {}
        for s in pools[lang][:40000]:
            for w in WORD.findall(s.lower()):
                if len(w) >= 4:
                    counts[w] = counts.get(w, 0) + 1
        vocab[lang] = sorted(counts, key=counts.get, reverse=True)[30:3000]

    def pair(gap):
        while True:
            s = rng.choice(pools[rng.choice(("en", "fr"))]).lower().split()
            ok = [i for i, w in enumerate(s) if len(w) >= 3 and WORD.fullmatch(w)]
            cand = [(a, b) for a in ok for b in ok if 0 < b - a <= gap]
            if cand:
                a, b = rng.choice(cand)
                return s[a], s[b]

    out = []
    for i in range(k):
        kind, lang = i % 9, rng.choice(("en", "en", "fr"))
        w = rng.choice(vocab[lang])
        if kind in (0, 1):
            q = {"q": w}
        elif kind == 2:
            q = {"q": "%s %s" % pair(8)}
        elif kind == 3:
            q = {"q": '"%s %s"' % pair(1)}
        elif kind == 4:
            q = {"q": f"{w} OR {rng.choice(vocab['fr' if lang == 'en' else 'en'])}"}
        elif kind == 5:
            q = {"q": "%s NEAR/5 %s" % pair(5)}
        elif kind == 6:
            q = {"q": rng.choice(vocab[lang][:500]), "brand": rng.choice(list(BRANDS))}
        elif kind == 7:
            q = {"q": w, "since": "7d"}
        else:
            q = {"q": rng.choice([x for x in vocab[lang] if len(x) >= 6])[:5] + "*"}
        out.append(q)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--slice", type=int, default=20_000)
    ap.add_argument("--vigie", default=os.path.join(ROOT, "target", "release", "vigie"))
    args = ap.parse_args()
    if not os.path.exists(args.vigie):
        sys.exit("build vigie first: cargo build --release")
    if not os.path.isdir(C):
        sys.exit(f"no corpora under {C}: this benchmark needs the public corpora next to the repository")
    work = tempfile.mkdtemp(prefix="vigie-million-")
    problems = []
    try:
        pools = sentences()
        pipes = os.path.join(work, "pipelines")
        os.makedirs(pipes)
        brands = "".join(f'\n[[brands]]\nid = "{b}"\nname = "{a[0]}"\naliases = {json.dumps(a)}\n' for b, a in BRANDS.items())
        open(os.path.join(pipes, "million.toml"), "w").write(WATCH.format(brands=brands))
        corpus, part = os.path.join(work, "posts.jsonl"), os.path.join(work, "slice.jsonl")
        t = time.time()
        build_corpus(corpus, part, args.docs, min(args.slice, args.docs), pools)
        n_slice = sum(1 for _ in open(part))
        print(f"{args.docs:,} posts ({os.path.getsize(corpus) / 1e6:.0f} MB) built in {time.time() - t:.0f} s (not timed)", file=sys.stderr)

        # side by side on the slice: vigie, Python, vigie again (vigie's median)
        py = cp.venv_python()
        worker = os.path.join(work, "python_stack.py")
        open(worker, "w").write(cp.WORKER)
        v1 = cp.run_measured([args.vigie, "-q", "--data", os.path.join(work, "s1"), "--pipelines", pipes, "ingest", part])
        p = cp.run_measured([py, worker, part, os.path.join(work, "p.db"), pipes])
        v2 = cp.run_measured([args.vigie, "-q", "--data", os.path.join(work, "s2"), "--pipelines", pipes, "ingest", part])
        v_wall = statistics.median([v1["wall"], v2["wall"]])
        ratio = p["wall"] / v_wall
        cores = os.cpu_count() or 1
        print(f"slice of {n_slice:,}: vigie {v1['wall']:.2f} s and {v2['wall']:.2f} s, Python {p['wall']:.1f} s "
              f"({n_slice / p['wall']:,.0f} posts/s, one core): x{ratio:.1f}, x{ratio / cores:.1f} per core")

        # the million
        data = os.path.join(work, "index")
        m = cp.run_measured([args.vigie, "--data", data, "--pipelines", pipes, "ingest", corpus])
        if m["code"] != 0:
            sys.exit(f"vigie ingest failed: {m['err']}")
        found = re.search(r"(\d+) new", m["err"])
        new = int(found.group(1)) if found else 0
        size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(data) for f in fs)
        docs_s = args.docs / m["wall"]
        print(f"ingest of {args.docs:,}: {m['wall']:.0f} s, {docs_s:,.0f} posts/s, peak RSS {m['rss_mb']:,.0f} MB, "
              f"{size / 1e6:,.0f} MB on disk ({size / args.docs:,.0f} B/post), {new:,} new")
        if new < args.docs * 0.99:
            problems.append(f"only {new:,} of {args.docs:,} posts indexed")

        # search through serve
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        env = {k: v for k, v in os.environ.items() if k != "VIGIE_SERVE_TOKEN"}
        srv = subprocess.Popen([args.vigie, "-q", "--data", data, "--pipelines", pipes, "serve", "--listen", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            for _ in range(300):
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5); c.request("GET", "/healthz")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            week = (datetime.now(timezone.utc) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            lat, empty = [], 0
            for i, q in enumerate(queries(pools, 1010)):
                q = dict(q, limit=10)
                if q.get("since") == "7d":
                    q["since"] = week
                t = time.perf_counter()
                conn.request("GET", "/api/search?" + urllib.parse.urlencode(q))
                r = conn.getresponse(); body = json.loads(r.read())
                dt = (time.perf_counter() - t) * 1000
                if r.status != 200 or len(body["hits"]) > 10:
                    sys.exit(f"/api/search {q}: {r.status} {str(body)[:120]}")
                if i >= 10:
                    lat.append(dt); empty += not body["hits"]
        finally:
            srv.terminate(); srv.wait()
        lat.sort()
        p50, p99 = statistics.median(lat), lat[int(round(0.99 * (len(lat) - 1)))]
        print(f"search: {len(lat)} queries, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {lat[-1]:.0f} ms, {empty} without hits")
        if empty > len(lat) / 2:
            problems.append(f"{empty} of {len(lat)} searches found nothing")

        # digests
        digest = {}
        for since in ("1d", "7d"):
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                r = subprocess.run([args.vigie, "--data", data, "--pipelines", pipes, "digest", "--watch", "million",
                                    "--since", since, "--format", "json"], capture_output=True, text=True)
                runs.append(time.perf_counter() - t)
            mentions = sum(b.get("mentions", 0) for b in json.loads(r.stdout).get("brands", []))
            digest[since] = statistics.median(runs)
            print(f"digest --since {since}: {digest[since]:.2f} s (median of 3), {mentions:,} mentions")
            if not mentions:
                problems.append(f"the {since} digest counts no brand mention")

        for what, value, ok in (("ingest posts/s", docs_s, docs_s >= TARGETS["docs_s"]),
                                ("ingest peak RSS MB", m["rss_mb"], m["rss_mb"] <= TARGETS["rss_mb"]),
                                ("search p99 ms", p99, p99 <= TARGETS["p99_ms"]),
                                ("digest 1d s", digest["1d"], digest["1d"] <= TARGETS["digest_s"]),
                                ("digest 7d s", digest["7d"], digest["7d"] <= TARGETS["digest_s"]),
                                ("ratio to the Python stack", ratio, ratio >= TARGETS["ratio"])):
            if not ok:
                problems.append(f"{what} {value:,.1f} misses its target")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        print("; ".join(problems))
        sys.exit(1)
    print("every figure on target")


if __name__ == "__main__":
    main()
