"""Init process of one sandbox (standard library only; run as ``python -I -S _launcher.py``).

The parent (:mod:`jaxor.sandbox._run`) starts this file under ``unshare --pid --net --mount --ipc
--uts --fork`` (as root) or ``unshare --user --map-root-user ...`` (rootless), so it is PID 1 of a
fresh pid namespace with a private mount namespace and a network namespace holding only a down
loopback. It reads a config (``marshal``) from stdin, then:

1. builds a new root on a small tmpfs: the Python installation and the system libraries bind-mounted
   read-only at their host paths, the program's working directory bind-mounted read-write at
   ``/sandbox``, a private size-limited ``/tmp`` and ``/dev/shm``, a minimal ``/dev`` (null, zero,
   full, random, urandom), a fresh ``/proc`` for the new pid namespace and a generated ``/etc``;
2. ``pivot_root``s into it and detaches the old root (nothing else of the host stays reachable) and
   remounts the new root read-only;
3. forks the program: (root mode) drops to the worker's own uid/gid, enters a new user namespace
   mapping only that uid, sets the rlimits and ``no_new_privs``, and ``execve``s the program;
   (rootless mode) clears the capability bounding set instead of changing uid;
4. reaps every process until the program exits, writes a report to the report fd, and exits.
   When PID 1 exits the kernel kills everything left in the pid namespace, so grandchildren that
   escaped into their own session die with it.

Context: SIRL (Chen et al., arXiv 2505.11792) verifies LLM-written solver programs by running them.
"""

import ctypes
import marshal
import os
import resource
import signal
import sys
import time

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
CLONE_NEWUSER = 0x10000000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217, "riscv64": 41}

_libc = ctypes.CDLL(None, use_errno=True)
_RLIMITS = {"AS": resource.RLIMIT_AS, "CPU": resource.RLIMIT_CPU, "NPROC": resource.RLIMIT_NPROC,
            "NOFILE": resource.RLIMIT_NOFILE, "FSIZE": resource.RLIMIT_FSIZE, "CORE": resource.RLIMIT_CORE}


class SetupError(Exception):
    pass


def _b(s):
    return None if s is None else os.fsencode(s)


def _mount(src, tgt, fstype, flags, data=None):
    if _libc.mount(_b(src), _b(tgt), _b(fstype), ctypes.c_ulong(flags), _b(data)) != 0:
        e = ctypes.get_errno()
        raise SetupError(f"mount({src!r}, {tgt!r}, {fstype!r}, {flags:#x}) failed: {os.strerror(e)}")


def _locked_flags(path):
    """Flags a read-only remount must keep (the kernel refuses to drop nosuid/nodev/noexec/atime ones)."""
    f = os.statvfs(path).f_flag
    out = 0
    for st_bit, ms_bit in ((2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC), (1024, MS_NOATIME),
                           (2048, MS_NODIRATIME), (4096, MS_RELATIME)):
        if f & st_bit:
            out |= ms_bit
    return out


def _bind(src, tgt, readonly, extra=0):
    _mount(src, tgt, None, MS_BIND)
    flags = MS_REMOUNT | MS_BIND | extra | _locked_flags(tgt) | (MS_RDONLY if readonly else 0)
    _mount(None, tgt, None, flags)


def _prctl(option, arg):
    if _libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0),
                   ctypes.c_ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def _mirror(root, path, binds_done):
    """Recreate host ``path`` (a dir, file or symlink) inside ``root``, bind-mounted read-only."""
    if not os.path.lexists(path):
        return
    inner = root + path
    if os.path.islink(path):
        os.makedirs(os.path.dirname(inner), exist_ok=True)
        if not os.path.lexists(inner):
            os.symlink(os.readlink(path), inner)
        target = os.path.realpath(path)
        if target != path:
            _mirror(root, target, binds_done)
        return
    real = os.path.realpath(path)
    if any(real == d or real.startswith(d.rstrip("/") + "/") for d in binds_done):
        return  # already visible through a bind of it or of a parent
    if os.path.isdir(real):
        os.makedirs(inner, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(inner), exist_ok=True)
        open(inner, "a").close()
    _bind(real, inner, readonly=True, extra=MS_NOSUID)
    binds_done.add(real)


def build_root(cfg):
    root = cfg["newroot"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
    # The private /tmp goes first: a Python installation that lives under /tmp (a CI virtual environment)
    # is then bound on top of it instead of being hidden by it.
    os.makedirs(root + "/tmp", exist_ok=True)
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={cfg['tmp_bytes']},mode=1777")
    done = set()
    for p in cfg["ro_paths"]:
        _mirror(root, p, done)
    work = root + cfg["inner_workdir"]
    os.makedirs(work, exist_ok=True)
    _bind(cfg["workdir"], work, readonly=False, extra=MS_NOSUID | MS_NODEV)
    os.makedirs(root + "/dev", exist_ok=True)
    _mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=755")
    for node in ("null", "zero", "full", "random", "urandom"):
        open(root + "/dev/" + node, "a").close()
        _bind("/dev/" + node, root + "/dev/" + node, readonly=False, extra=MS_NOSUID | MS_NOEXEC)
    os.makedirs(root + "/dev/shm")
    _mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={cfg['tmp_bytes']},mode=1777")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, root + "/dev/" + name)
    os.makedirs(root + "/proc", exist_ok=True)
    try:
        _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except SetupError:
        if cfg.get("require_proc", False):
            raise
    etc = root + "/etc"
    os.makedirs(etc, exist_ok=True)
    uid, gid = cfg["uid"], cfg["gid"]
    files = {"passwd": f"root:x:0:0:root:/:/bin/false\nsandbox:x:{uid}:{gid}:sandbox:{cfg['inner_workdir']}:/bin/false\n",
             "group": f"root:x:0:\nsandbox:x:{gid}:\n",
             "hosts": "127.0.0.1 localhost\n::1 localhost\n",
             "hostname": "sandbox\n"}
    for name, text in files.items():
        with open(os.path.join(etc, name), "w") as f:
            f.write(text)
    for p in cfg.get("etc_files", []):
        if os.path.exists(p) and not os.path.lexists(root + p):
            _mirror(root, p, done)
    # pivot into the new root and drop the old one.
    os.chdir(root)
    os.mkdir(".oldroot")
    nr = _PIVOT_ROOT.get(os.uname().machine)
    if nr is None or _libc.syscall(ctypes.c_long(nr), b".", b".oldroot") != 0:
        raise SetupError(f"pivot_root failed: {os.strerror(ctypes.get_errno())}")
    os.chdir("/")
    if _libc.umount2(b"/.oldroot", MNT_DETACH) != 0:
        raise SetupError(f"umount of the old root failed: {os.strerror(ctypes.get_errno())}")
    os.rmdir("/.oldroot")
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    try:
        _libc.sethostname(b"sandbox", 7)
    except Exception:  # noqa: BLE001 - cosmetic
        pass


def _enter_program(cfg):
    """In the forked child: lose privileges, set limits, exec. Never returns."""
    try:
        os.setsid()
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        for name, value in cfg["rlimits"].items():
            soft = value
            hard = value + 1 if name == "CPU" else value
            resource.setrlimit(_RLIMITS[name], (soft, hard))
        if cfg["mode"] == "root":
            uid, gid = cfg["uid"], cfg["gid"]
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            _prctl(PR_SET_DUMPABLE, 1)  # so the (now unprivileged) process may write its own maps
            if _libc.unshare(ctypes.c_int(CLONE_NEWUSER)) != 0:
                raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER) failed")
            with open("/proc/self/setgroups", "w") as f:
                f.write("deny")
            with open("/proc/self/uid_map", "w") as f:
                f.write(f"{uid} {uid} 1")
            with open("/proc/self/gid_map", "w") as f:
                f.write(f"{gid} {gid} 1")
        else:
            for cap in range(64):
                try:
                    _prctl(PR_CAPBSET_DROP, cap)
                except OSError:
                    break
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        fd = os.open("/dev/null", os.O_RDONLY)
        os.dup2(fd, 0)
        os.close(fd)
        os.close(cfg["report_fd"])
        os.chdir(cfg["cwd"])
        os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])
    except BaseException as e:  # noqa: BLE001 - report and die
        os.write(2, f"jaxor.sandbox: could not start the program: {e!r}\n".encode())
        os._exit(126)


def main():
    cfg = marshal.loads(sys.stdin.buffer.read())  # marshal, not json: keeps this process's start-up short
    report_fd = cfg["report_fd"]

    def report(obj):  # length-prefixed marshal records
        data = marshal.dumps(obj)
        os.write(report_fd, len(data).to_bytes(4, "little") + data)

    try:  # the host's /proc is still mounted: its "self" is this process's pid in the host namespace
        report({"host_pid": int(os.readlink("/proc/self")), "t_start": time.monotonic()})
    except (OSError, ValueError):
        pass
    try:
        build_root(cfg)
    except BaseException as e:  # noqa: BLE001
        report({"setup_error": f"{type(e).__name__}: {e}"})
        os._exit(125)
    report({"ready": True, "t": time.monotonic()})  # CLOCK_MONOTONIC is shared with the parent
    child = os.fork()
    if child == 0:
        _enter_program(cfg)
    result = None
    while True:
        try:
            pid, status, ru = os.wait4(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            result = {"exit": os.waitstatus_to_exitcode(status),
                      "cpu_s": ru.ru_utime + ru.ru_stime, "max_rss_kb": ru.ru_maxrss}
            break
    report(result or {"setup_error": "program process vanished"})
    os._exit(0)


if __name__ == "__main__":
    main()
