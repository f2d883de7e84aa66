import os

import pytest

from emosync.atomic import atomic_open, atomic_set, atomic_write_text, check_writable
from emosync.errors import InputError


def test_refuses_to_overwrite_without_force(tmp_path):
    p = tmp_path / "out.csv"
    p.write_text("precious")
    with pytest.raises(InputError, match="--force"):
        atomic_write_text(p, "new")
    assert p.read_text() == "precious"
    atomic_write_text(p, "new", force=True)
    assert p.read_text() == "new"


def test_failure_leaves_no_partial_file(tmp_path):
    p = tmp_path / "out.json"
    with pytest.raises(RuntimeError), atomic_open(p, "w") as f:
        f.write("half")
        raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_unwritable_targets(tmp_path):
    with pytest.raises(InputError, match="directory"):
        check_writable(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        check_writable(tmp_path / "missing" / "x.csv")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError):
        atomic_write_text(tmp_path / "file" / "x.csv", "data")
    with pytest.raises(InputError, match="cannot write"):
        atomic_write_text("/proc/emosync-test.csv", "data")


def test_new_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        p = atomic_write_text(tmp_path / "a.json", "{}")
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o644


def test_a_set_of_outputs_appears_together_or_not_at_all(tmp_path):
    (tmp_path / "old.csv").write_text("precious")
    with pytest.raises(KeyboardInterrupt), atomic_set():
        atomic_write_text(tmp_path / "a.json", "a")
        atomic_write_text(tmp_path / "old.csv", "b", force=True)
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
            "old.csv"
        ]  # written, not yet in place
        raise KeyboardInterrupt  # Ctrl-C between the second and the third output
    assert sorted(os.listdir(tmp_path)) == ["old.csv"]
    assert (tmp_path / "old.csv").read_text() == "precious"
    with atomic_set():
        atomic_write_text(tmp_path / "a.json", "a")
        atomic_write_text(tmp_path / "old.csv", "b", force=True)
    assert sorted(os.listdir(tmp_path)) == ["a.json", "old.csv"]
    assert (tmp_path / "old.csv").read_text() == "b"
