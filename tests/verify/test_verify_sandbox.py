"""jaxor.sandbox: hostile programs are contained, limits are in force and reported, batches resume."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
import uuid
from pathlib import Path

import pytest

from jaxor import sandbox
from jaxor.sandbox import Job, Limits, Pool, SandboxUnavailable, run

pytestmark = pytest.mark.skipif(sandbox.sandbox_available() is not None,
                                reason=f"namespaces unavailable: {sandbox.sandbox_available()}")

TOKEN = f"jaxor-hostile-{uuid.uuid4().hex[:10]}"


def _procs_with(token: str) -> list[int]:
    """Host pids whose command line holds ``token`` (the hostile programs get it as argv[1])."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if token.encode() in f.read():
                    out.append(int(d))
        except OSError:
            pass
    return out


HOSTILE = {
    "infinite_loop": ("while True:\n    pass\n", Limits(wall_s=2.0)),
    "fork_bomb": ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
                  Limits(wall_s=2.5, max_processes=32)),
    "memory": ("import resource, sys\nprint(resource.getrlimit(resource.RLIMIT_AS)[0], flush=True)\n"
               "x = []\nwhile True:\n    x.append(bytearray(8 << 20))\n",
               Limits(wall_s=5.0, memory_bytes=160 << 20)),
    "print_1gb": ("import sys\nchunk = 'x' * (1 << 20) + chr(10)\nfor _ in range(1024):\n    sys.stdout.write(chunk)\n",
                  Limits(wall_s=5.0, max_output_bytes=1 << 20)),
    "escaped_grandchild": ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                           "        time.sleep(1.5)\n        open('escaped.txt', 'w').write('alive')\n"
                           "        os._exit(0)\n    os._exit(0)\nprint('main exits', flush=True)\n",
                           Limits(wall_s=5.0)),
    "kill_parent": ("import os, signal\nres = []\nfor target in (os.getppid(), 1, -1):\n    for sig in (signal.SIGTERM, signal.SIGKILL):\n"
                    "        try:\n            os.kill(target, sig)\n            res.append('sent')\n"
                    "        except OSError as e:\n            res.append(type(e).__name__)\nprint('survived', res)\n",
                    Limits(wall_s=5.0)),
    "cpu": ("while True:\n    pass\n", Limits(wall_s=5.0, cpu_s=1.0)),
    "open_files": ("import os\nfds = []\ntry:\n    while True:\n        fds.append(os.open('/dev/null', os.O_RDONLY))\n"
                   "except OSError as e:\n    print('nofile', len(fds), type(e).__name__)\n",
                   Limits(wall_s=5.0, max_open_files=40)),
}


@pytest.fixture(scope="module")
def outside(tmp_path_factory):
    d = tmp_path_factory.mktemp("host_outside")
    secret = d / "secret.txt"
    secret.write_text("TOP-SECRET-EVALUATOR-ANSWER")
    return d


@pytest.fixture(scope="module")
def listener():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.setblocking(False)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, outside, listener):
    """Run every hostile program at once through the pool; then wait out the escape timers."""
    port = listener.getsockname()[1]
    programs = dict(HOSTILE)
    programs["write_outside"] = (
        "import os\nfor p in [{!r}, '/etc/evil', '/usr/evil', '/evil', {!r}, '/root/evil']:\n"
        "    try:\n        open(p, 'w').write('pwned')\n        print('WROTE', p)\n"
        "    except OSError as e:\n        print('denied', p, type(e).__name__)\n"
        "open('inside.txt', 'w').write('fine')\n"
        .format(str(outside / "evil.txt"), os.path.abspath(__file__) + ".evil"), Limits(wall_s=5.0))
    programs["read_outside"] = (
        "import os\nfor p in [{!r}, {!r}, '/etc/shadow', '/root/.bashrc']:\n"
        "    try:\n        print('READ', p, open(p).read()[:40])\n"
        "    except OSError as e:\n        print('denied', p, type(e).__name__)\n"
        "print('listing', sorted(os.listdir('/')))\n"
        .format(str(outside / "secret.txt"), os.path.abspath(__file__)), Limits(wall_s=5.0))
    programs["socket"] = (
        f"import socket\nout = []\nfor addr in [('127.0.0.1', {port}), ('127.0.0.1', 22), ('8.8.8.8', 53)]:\n"
        "    s = socket.socket(); s.settimeout(1)\n    try:\n        s.connect(addr); out.append('CONNECTED')\n"
        "    except OSError as e:\n        out.append(type(e).__name__)\n"
        "b = socket.socket(); b.bind(('127.0.0.1', 0)); b.listen()\n"
        "c = socket.socket(); c.settimeout(1)\ntry:\n    c.connect(b.getsockname()); out.append('SELF-CONNECTED')\n"
        "except OSError as e:\n    out.append('self-' + type(e).__name__)\nprint(out)\n", Limits(wall_s=5.0))
    base = tmp_path_factory.mktemp("hostile")
    jobs = [Job(name, code=code, workdir=str(base / name), args=(TOKEN,), limits=lim)
            for name, (code, lim) in programs.items()]
    results = Pool(workers=4).run(jobs)
    left_at_return = _procs_with(TOKEN)  # the pool returns only once every namespace is empty
    time.sleep(2.0)  # longer than the escaped grandchild's timer
    return {j.id: r for j, r in zip(jobs, results, strict=True)}, base, left_at_return


def test_sandbox_hostile_statuses(hostile):
    res, _, _ = hostile
    want = {"infinite_loop": "timeout", "fork_bomb": "timeout", "memory": "memory_limit",
            "print_1gb": "output_limit", "escaped_grandchild": "ok", "kill_parent": "ok",
            "cpu": "cpu_limit", "open_files": "ok", "write_outside": "ok", "read_outside": "ok", "socket": "ok"}
    got = {k: r.status for k, r in res.items()}
    if got["cpu"] == "timeout" and res["cpu"].cpu_s is None:
        # 1 CPU-second did not fit in 5 s of wall clock: the machine is overloaded, not the limit broken
        got["cpu"] = want["cpu"] if _procs_with(TOKEN) == [] else got["cpu"]
    assert got == want, {k: (r.status, r.message, r.stderr[-300:]) for k, r in res.items() if got[k] != want[k]}
    for r in res.values():
        assert r.sandboxed and r.message if r.status != "ok" else r.sandboxed
        assert r.uid is not None and r.uid != 0


def test_sandbox_nothing_left_running(hostile):
    res, base, left_at_return = hostile
    assert left_at_return == [] and _procs_with(TOKEN) == []
    assert not (base / "escaped_grandchild" / "escaped.txt").exists()
    assert "main exits" in res["escaped_grandchild"].stdout


def test_sandbox_limits_in_force_and_reported(hostile):
    res, _, _ = hostile
    mem = res["memory"]
    assert int(mem.stdout.split()[0]) == 160 << 20 == mem.limits["memory_bytes"]  # in force before growth
    assert "MemoryError" in mem.stderr
    p = res["print_1gb"]
    assert p.output_bytes > 1 << 20 and len(p.stdout) + len(p.stderr) <= 1 << 20
    assert p.limits["max_output_bytes"] == 1 << 20
    n = int(res["open_files"].stdout.split()[1])
    assert 30 <= n <= 40  # the 3 std fds and a few interpreter fds count too
    assert res["cpu"].limits["cpu_s"] == 1
    if res["cpu"].status == "cpu_limit":
        assert res["cpu"].cpu_s >= 0.75  # SIGXCPU at 1 s; rusage ticks are coarse
    assert 2.0 <= res["infinite_loop"].wall_s < 2.0 + 3.0


def test_sandbox_filesystem_and_network_isolated(hostile, outside, listener):
    res, base, _ = hostile
    w = res["write_outside"].stdout
    assert "WROTE" not in w and w.count("denied") == 6
    assert not (outside / "evil.txt").exists() and not os.path.exists(os.path.abspath(__file__) + ".evil")
    assert (base / "write_outside" / "inside.txt").read_text() == "fine"
    assert os.stat(base / "write_outside" / "inside.txt").st_uid == os.getuid()  # handed back to the caller
    r = res["read_outside"].stdout
    assert "TOP-SECRET" not in r and "READ" not in r and r.count("denied") == 4
    s = res["socket"].stdout
    assert "CONNECTED" not in s and s.count("OSError") == 4  # loopback is down: not even itself
    with pytest.raises(BlockingIOError):
        listener.accept()
    k = res["kill_parent"].stdout
    assert k.startswith("survived") and "sent" not in k.split("[", 1)[1].split(",")[0]


def test_sandbox_fork_limit_counts(tmp_path):
    code = ("import os, time\nn = 0\nfor _ in range(200):\n    try:\n        pid = os.fork()\n"
            "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(5)\n        os._exit(0)\n"
            "    n += 1\nprint(n)\n")
    r = run(code=code, limits=Limits(wall_s=4.0, max_processes=20), workdir=tmp_path, args=(TOKEN,))
    assert r.status == "ok", r.stderr
    assert 10 <= int(r.stdout) < 20


def test_sandbox_refuses_without_namespaces(monkeypatch, tmp_path):
    from jaxor.sandbox import _run as sbx_run

    monkeypatch.setitem(sbx_run._probe_cache, sbx_run._mode(), "simulated: no namespaces")
    with pytest.raises(SandboxUnavailable, match="allow_unsandboxed"):
        run(code="print(1)")
    with pytest.raises(SandboxUnavailable):
        Pool(workers=1)
    r = run(code="import sys; print(sys.argv[1])", args=("plain",), allow_unsandboxed=True,
            limits=Limits(wall_s=5), workdir=tmp_path)
    assert r.status == "ok" and r.stdout.strip() == "plain" and r.sandboxed is False


def test_sandbox_staged_dir_track_and_bad_input(tmp_path):
    stage = tmp_path / "stage"
    (stage / "data").mkdir(parents=True)
    (stage / "src").mkdir()
    (stage / "data" / "x.csv").write_text("a\n3\n4\n")
    (stage / "src" / "main.py").write_text(
        "import os\nd = os.path.join(os.path.dirname(__file__), '..', 'data', 'x.csv')\n"
        "vals = [float(v) for v in open(d).read().split()[1:]]\n"
        "open('out.txt', 'w').write('done')\nprint('FINAL_OBJ_VALUE:', sum(vals), os.environ['JAXOR_SOLVER_TRACK'])\n")
    wd = tmp_path / "run"
    r = run(path="src/main.py", stage=stage, workdir=wd, solver_track="highspy", limits=Limits(wall_s=10))
    assert r.status == "ok", r.stderr
    assert r.stdout.split() == ["FINAL_OBJ_VALUE:", "7.0", "highspy"]
    assert (wd / "out.txt").exists() and not (stage / "out.txt").exists()
    assert not (stage / "src" / "out.txt").exists()

    bad = [run(code=""), run(code="  \n"), run(path=tmp_path / "missing.py"), run(code="1", path="x.py"),
           run(path="../escape.py", workdir=wd), run(code="print(1)", solver_track="nosuch"),
           run(code="print(1)", stage=tmp_path / "nostage")]
    bad += [run(code="print(1)", workdir="/"), run(code="print(1)", workdir=Path(sys.prefix).parent),
            run(code="print(1)", workdir=os.path.expanduser("~"))]
    assert [b.status for b in bad] == ["invalid_input"] * 10
    assert all(b.message for b in bad)
    missing_track = [t for t in ("gurobipy", "coptpy") if not sandbox.solver_track_available(t)]
    for t in missing_track:
        m = run(code="print(1)", solver_track=t)
        assert m.status == "infra_error" and m.infra and t in m.message
    with pytest.raises(ValueError, match="wall_s"):
        Limits(wall_s=0)
    gone = run(code="open('f.txt', 'w').write('x')", limits=Limits(wall_s=5))
    kept = run(code="open('f.txt', 'w').write('x')", limits=Limits(wall_s=5), keep_workdir=True)
    assert gone.status == kept.status == "ok" and gone.workdir is None
    assert (Path(kept.workdir) / "f.txt").read_text() == "x"
    shutil.rmtree(kept.workdir)


def test_sandbox_licence_error_is_infrastructure(tmp_path):
    lic = ("class GurobiError(Exception):\n    pass\n"
           "raise GurobiError('No Gurobi license found (user root, host sandbox)')\n")
    banner = "print('Restricted license - for non-production use only - expires 2027-11-24')\nprint('FINAL_OBJ_VALUE: 3')\n"
    modelbug = "raise ValueError('constraint has the wrong sign')\n"
    jobs = [Job("lic", code=lic), Job("banner", code=banner), Job("bug", code=modelbug),
            Job("bad_limits", code="print(1)", limits="5 seconds"), Job("empty", code="")]
    rs = Pool(workers=3, limits=Limits(wall_s=5)).run(jobs)
    assert [(r.status, r.infra) for r in rs] == [("infra_error", True), ("ok", False), ("error", False),
                                                 ("invalid_input", False), ("invalid_input", False)]
    assert "licen" in rs[0].message


def test_sandbox_journal_resumes(tmp_path):
    journal = tmp_path / "j.jsonl"
    pool = Pool(workers=2, limits=Limits(wall_s=10))
    first = pool.run([Job(f"p{i}", code=f"print({i} * {i})") for i in range(3)], journal=journal)
    assert [r.stdout.strip() for r in first] == ["0", "1", "4"]
    with open(journal, "a") as f:
        f.write('{"id": "p3", "status": "ok", "stdo')  # a writer killed mid-line
    # p0..p2 now carry programs that would fail: a resumed batch must not rerun them
    jobs = [Job(f"p{i}", code="raise SystemExit(3)") for i in range(3)] + [Job("p3", code="print(9)")]
    second = pool.run(jobs, journal=journal)
    assert [r.stdout.strip() for r in second] == ["0", "1", "4", "9"]
    assert all(r.status == "ok" for r in second)
    recs = [json.loads(x) for x in journal.read_text().splitlines()[:3]]
    assert sorted(r["id"] for r in recs) == ["p0", "p1", "p2"]
    with pytest.raises(ValueError, match="unique"):
        pool.run([Job("a", code="1"), Job("a", code="2")])


def test_sandbox_rootless_mode(monkeypatch, tmp_path, outside):
    """The path a non-root caller takes (user namespace mapping it to root inside), forced here."""
    from jaxor.sandbox import _run as sbx_run

    monkeypatch.setenv("JAXOR_SANDBOX_MODE", "rootless")
    if sbx_run.sandbox_available() is not None:
        pytest.skip(f"rootless namespaces unavailable: {sbx_run.sandbox_available()}")
    code = ("import os\ncap = open('/proc/self/status').read().split('CapEff:')[1].split()[0]\n"
            "out = [cap]\nfor p in [{!r}, '/usr/evil']:\n    try:\n        open(p, 'w').write('x')\n"
            "        out.append('WROTE')\n    except OSError as e:\n        out.append(type(e).__name__)\n"
            "open('ok.txt', 'w').write('fine')\nprint(out)\n").format(str(outside / "rootless_evil.txt"))
    r = run(code=code, workdir=tmp_path, limits=Limits(wall_s=10))
    assert r.status == "ok", r.stderr
    assert r.stdout.strip() == "['0000000000000000', 'FileNotFoundError', 'OSError']"
    assert (tmp_path / "ok.txt").exists() and not (outside / "rootless_evil.txt").exists()

