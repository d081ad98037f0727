"""The helper scripts under scripts/ on real folders of files."""

import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def run_subset(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / "subset_folder.py"), *map(str, args)],
                          capture_output=True, text=True)


def make_files(folder: Path, n: int, size: int) -> None:
    folder.mkdir()
    for i in range(n):
        (folder / f"img{i:02d}.jpg").write_bytes(bytes([i]) * size)


def test_subset_copies_unchanged_files_under_the_limit_reproducibly(tmp_path):
    make_files(tmp_path / "src", 20, 100_000)
    limit_mib = 0.5  # 524,288 bytes: room for 5 files of 100,000
    assert run_subset(tmp_path / "src", tmp_path / "a", "--max-mib", limit_mib, "--seed", 3).returncode == 0
    assert run_subset(tmp_path / "src", tmp_path / "b", "--max-mib", limit_mib, "--seed", 3).returncode == 0
    assert run_subset(tmp_path / "src", tmp_path / "c", "--max-mib", limit_mib, "--seed", 4).returncode == 0
    a = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(a) == 5
    assert a == sorted(p.name for p in (tmp_path / "b").iterdir())  # same seed, same subset
    assert a != sorted(p.name for p in (tmp_path / "c").iterdir())  # another seed, another subset
    for name in a:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "src" / name).read_bytes()


def test_subset_takes_the_files_another_folder_lacks_first(tmp_path):
    make_files(tmp_path / "src", 10, 100_000)
    assert run_subset(tmp_path / "src", tmp_path / "first", "--max-mib", 0.5, "--seed", 1).returncode == 0
    first = {p.name for p in (tmp_path / "first").iterdir()}
    r = run_subset(tmp_path / "src", tmp_path / "second", "--max-mib", 0.6, "--seed", 2,
                   "--first-missing-from", tmp_path / "first")
    assert r.returncode == 0
    second = {p.name for p in (tmp_path / "second").iterdir()}
    assert len(second) == 6
    assert {p.name for p in (tmp_path / "src").iterdir()} - first <= second  # all 5 left out before
    assert len(second & first) == 1


def test_subset_refuses_a_non_empty_destination(tmp_path):
    make_files(tmp_path / "src", 3, 10)
    (tmp_path / "dst").mkdir()
    (tmp_path / "dst" / "keep.txt").write_text("x")
    r = run_subset(tmp_path / "src", tmp_path / "dst", "--max-mib", 1)
    assert r.returncode != 0 and "not empty" in r.stderr
    assert [p.name for p in (tmp_path / "dst").iterdir()] == ["keep.txt"]


def test_the_docs_result_tables_are_made_from_their_results_files():
    """Every marked table in README.md and docs/ is what scripts/results_tables.py makes from the
    results/ files it names."""
    run = subprocess.run([sys.executable, str(SCRIPTS / "results_tables.py"), "--check"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_table_that_drifts_from_its_results_file_is_rewritten():
    import importlib.util

    spec = importlib.util.spec_from_file_location("results_tables", SCRIPTS / "results_tables.py")
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    marker = '<!-- results {"table": "residual", "files": ["results/key_attack.json"]} -->\n'
    fresh = tables.update(marker + "| stale |\n<!-- /results -->\n")
    assert "| stale |" not in fresh and fresh.startswith(marker) and fresh.endswith("<!-- /results -->\n")
    assert fresh.count("\n| `deepsteg-") >= 2 and tables.update(fresh) == fresh
