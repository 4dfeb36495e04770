#!/usr/bin/env python3
"""What a watch costs per post: 100,000 posts ingested with one watch (two brands, every
detector on) and with none, same binary, same file.

The posts are the signals replay (30 days of real French and English tweets from the public
corpora under ../shared/corpora, with brand posts and two rising phrases planted) repeated under
other addresses until there are 100,000. Without the corpora it says so and stops.

    python3 benches/watch_cost.py [--vigie target/release/vigie] [--posts 100000]
"""
import argparse
import datetime as dt
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPORA = os.path.join(ROOT, "..", "shared", "corpora")

WATCH = """name = "bench"

[[brands]]
id = "orange"
name = "Orange"
aliases = ["Orange France", "@Orange_conseil", "Livebox", "Sosh"]
ambiguous = ["Orange"]
context = ["opérateur", "forfait", "fibre", "box", "réseau", "client", "facture", "internet"]
exclude = ["jus d'orange", "orange juice"]
case_sensitive = true

[[brands]]
id = "sncf"
name = "SNCF"
aliases = ["SNCF", "TGV", "TER", "Ouigo"]
"""

BRAND = ["Encore une panne chez Orange, internet coupé depuis ce matin.",
         "Installation de la fibre Orange en une heure, technicien au top.",
         "Orange présente ses nouveaux forfaits mobiles pour la rentrée.",
         "Great support from Orange today, the network has been perfect all week.",
         "Mon TGV a encore deux heures de retard, merci la SNCF."]
RISING = [["Quelqu'un d'autre a un souci de prélèvement en double ?",
           "Le prélèvement en double touche aussi mon compte."],
          ["Mobile data down everywhere downtown, nothing loads.",
           "Anyone else with mobile data down? Nothing since noon."]]


def pool():
    fr = os.path.join(CORPORA, "fr_tweets_deft2017_umsab", "train_text.txt")
    en = os.path.join(CORPORA, "vader_icwsm2014", "tweets_GroundTruth.txt")
    if not (os.path.exists(fr) and os.path.exists(en)):
        return None
    p = open(fr, encoding="utf-8").read().split("\n")
    p += [l.rstrip("\n").split("\t")[2] for l in open(en, encoding="utf-8", errors="replace")
          if l.count("\t") >= 2]
    return [x for x in p if x.strip()]


def replay(texts):
    rnd = random.Random(7)
    day0 = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
    docs = []

    def add(day, text):
        t = day0 + dt.timedelta(days=day, seconds=rnd.randrange(86400))
        docs.append((t.strftime("%Y-%m-%dT%H:%M:%SZ"), text))
    for day in range(30):
        for _ in range(240):
            add(day, rnd.choice(texts))
        for _ in range(20):
            add(day, rnd.choice(BRAND) + " " + rnd.choice(texts))
        if day >= 15:
            for _ in range(25):
                add(day, rnd.choice(RISING[0]) + " " + rnd.choice(texts))
        if day == 25:
            for _ in range(30):
                add(day, rnd.choice(RISING[1]) + " " + rnd.choice(texts))
    docs.sort()
    return docs


def ingest(vigie, work, name, posts, watch):
    d = os.path.join(work, name)
    os.makedirs(os.path.join(d, "pipelines"))
    if watch:
        with open(os.path.join(d, "pipelines", "bench.toml"), "w") as f:
            f.write(WATCH)
    open(os.path.join(d, "sources.toml"), "w").close()
    cmd = [vigie, "--data", os.path.join(d, "data"), "--pipelines", os.path.join(d, "pipelines"),
           "--sources", os.path.join(d, "sources.toml"), "-q", "ingest", posts]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # processor time, not wall time: on a shared machine the wall clock measures the neighbours
    secs = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        sys.exit("vigie ingest failed: " + r.stderr[-500:])
    alerts = subprocess.run(cmd[:-3] + ["alerts", "--json", "--since", "2026-01-01"],
                            capture_output=True, text=True).stdout.splitlines()
    return secs, wall, len(alerts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", default=os.path.join(ROOT, "target", "release", "vigie"))
    ap.add_argument("--posts", type=int, default=100_000)
    args = ap.parse_args()
    texts = pool()
    if texts is None:
        print("watch_cost: skipped (the public tweet corpora are not under %s)" % CORPORA)
        return
    base = replay(texts)
    work = tempfile.mkdtemp(prefix="vigie-watch-cost-")
    try:
        posts = os.path.join(work, "posts.jsonl")
        with open(posts, "w") as f:
            for i in range(args.posts):
                at, text = base[i % len(base)]
                f.write(json.dumps({"url": "https://replay.example/%d/%d" % (i // len(base), i),
                                    "text": text, "published": at, "source": "replay"},
                                   ensure_ascii=False) + "\n")
        without, wall0, _ = ingest(args.vigie, work, "none", posts, False)
        with_, wall1, n_alerts = ingest(args.vigie, work, "watch", posts, True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = args.posts
    print("ingest of %d posts, processor time: %.1f s without a watch, %.1f s with one (%d alerts): "
          "the watch costs %.0f µs a post, %+.0f %% (wall %.1f s and %.1f s)"
          % (n, without, with_, n_alerts, (with_ - without) / n * 1e6, (with_ / without - 1) * 100,
             wall0, wall1))


if __name__ == "__main__":
    main()
