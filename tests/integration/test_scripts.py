"""The test scripts themselves: scripts/pg-test.sh works from a checkout that only its
owner may enter (an incident: `make check` from /root/tessera stopped at once), and it
leaves nothing running behind it."""
import glob
import os
import subprocess
import tempfile

import pytest

from tessera_itest import REPO, psql_binary

PG_TEST = os.path.join(REPO, "scripts", "pg-test.sh")


def clusters():
    return set(glob.glob("/tmp/tessera-pg.*"))


def pg(*args):
    return subprocess.run(["sh", PG_TEST, *args], capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(os.getuid() != 0, reason="the private-directory case is about root's checkouts")
def test_pg_cluster_from_private_directory():
    private = tempfile.mkdtemp(prefix="tessera-private-")  # 0700, owned by root
    try:
        os.chmod(private, 0o700)
        handle = os.path.join(private, "checkout", "tmp", "pg")
        before = clusters()
        p = pg("start", handle)
        assert p.returncode == 0, p.stderr
        url = p.stdout.strip().splitlines()[-1]
        assert url.startswith("postgresql://"), p.stdout
        made = clusters() - before
        assert len(made) == 1, made
        q = subprocess.run([psql_binary(), url, "-At", "-c", "SELECT 41 + 1"], capture_output=True, text=True, timeout=60)
        assert q.stdout.strip() == "42", q.stderr
        assert pg("stop", handle).returncode == 0
        assert not (clusters() & made), "the cluster's directory outlived stop"
    finally:
        subprocess.run(["rm", "-rf", private])


def test_pg_reap_finds_orphans():
    """A run killed before its stop: the next start (or `reap`) stops its cluster."""
    handle = tempfile.mkdtemp(prefix="tessera-orphan-")
    p = pg("start", handle)
    assert p.returncode == 0, p.stderr
    made = clusters()
    with open(os.path.join(handle, "cluster")) as f:
        cluster = f.read().strip()
    assert cluster in made
    subprocess.run(["rm", "-rf", handle])  # the harness is gone without stopping it
    assert pg("reap").returncode == 0
    assert not os.path.exists(cluster)
    q = subprocess.run(["pgrep", "-f", cluster + "/data"], capture_output=True)
    assert q.returncode == 1, "postgres still runs for %s" % cluster


def test_check_build_status_is_cmakes(tmp_path):
    """scripts/check.sh's build stage fails when the build fails, even with a stale
    binary from an earlier build in place (it once took grep's status instead)."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    with open(os.path.join(REPO, "scripts", "check.sh")) as f:
        (repo / "scripts" / "check.sh").write_text(f.read())
    (repo / "scripts" / "pg-test.sh").write_text('[ "$1" = start ] && echo postgresql://x@127.0.0.1:1/x\nexit 0\n')
    stale = repo / "build" / "tessera"
    stale.parent.mkdir()
    stale.write_text("#!/bin/sh\n")
    stale.chmod(0o755)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "cmake"  # configures fine, then the compiler fails
    fake.write_text('#!/bin/sh\nif [ "$1" = --build ]; then echo "[ 50%] Building C object x.o"; '
                    'echo "x.c:1: error: boom" >&2; exit 2; fi\nexit 0\n')
    fake.chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (bindir, os.environ["PATH"]), CHECK_STAGES="build")
    p = subprocess.run(["sh", str(repo / "scripts" / "check.sh")], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode != 0, p.stdout
    assert "==> build: FAILED" in p.stdout, p.stdout
    assert "error: boom" in p.stdout + p.stderr



def test_check_side_by_side_stage_failure_counts(tmp_path):
    """The stages scripts/check.sh runs side by side (ASan integration, SQLite untuned) report
    their own log and fail the check when their command fails."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    with open(os.path.join(REPO, "scripts", "check.sh")) as f:
        (repo / "scripts" / "check.sh").write_text(f.read())
    (repo / "scripts" / "pg-test.sh").write_text('[ "$1" = start ] && echo postgresql://x@127.0.0.1:1/x\nexit 0\n')
    (repo / "build").mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "ctest"  # the untuned stage's store tests fail
    fake.write_text('#!/bin/sh\necho "store contract: boom"\nexit 8\n')
    fake.chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (bindir, os.environ["PATH"]), CHECK_STAGES="sqlite-untuned")
    p = subprocess.run(["sh", str(repo / "scripts" / "check.sh")], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode != 0, p.stdout
    assert "==> sqlite-untuned: FAILED" in p.stdout, p.stdout
    assert "store contract: boom" in p.stdout
    assert "==> asan-integration: not run" in p.stdout

LINT = os.path.join(REPO, "scripts", "lint.sh")


def lint_banned(tmp_path, text):
    """scripts/lint.sh's banned-function check on one C file holding text: its hits."""
    f = tmp_path / "x.c"
    f.write_text(text)
    p = subprocess.run(["sh", LINT, "banned", str(f)], capture_output=True, text=True, timeout=60)
    hits = [line for line in p.stderr.splitlines() if line.startswith(str(f) + ":")]
    assert (p.returncode != 0) == bool(hits), p.stderr
    return [int(line.split(":")[1]) for line in hits]


@pytest.mark.parametrize("name", ["strcpy", "strcat", "strncpy", "strncat", "sprintf", "vsprintf", "gets",
                                  "sscanf", "strtok", "atoi", "atol", "atof", "alloca", "system",
                                  "malloc", "calloc", "realloc", "free"])
def test_lint_bans(tmp_path, name):
    assert lint_banned(tmp_path, "int f(void)\n{\n\treturn %s (x);\n}\n" % name) == [3]


def test_lint_ignores_comments_and_strings(tmp_path):
    text = ("/* strcpy(a, b) in a comment\n"
            " * that goes on: sprintf(x, y)\n"
            " */\n"
            "// system(\"ls\")\n"
            "const char *s = \"atoi(x) strtok(y)\"; char q = '\"'; int z = ts_free(p);\n"
            "int k = strtok_r(a, b, c) + o->system(1) + o.free(2) + my_alloca(3);\n")
    assert lint_banned(tmp_path, text) == []


def test_lint_finds_calls_beside_comments(tmp_path):
    text = ("/* a comment\n"
            "   over lines */ int x = atoi(s);\n"       # after a comment that ends here
            "/* one */ strncpy(a, b, 1); /* two */\n"   # between two comments
            "char c = '\\''; gets(buf); // gets(\n"     # after an escaped quote
            "const char *m = \"\\\"\"; alloca(8);\n")
    assert lint_banned(tmp_path, text) == [2, 3, 4, 5]
