"""`emosync batch` on the local process pool: manifests, defaults, per-line failures, resume,
--force, the report, and a worker killed mid-run."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emosync.cli.main import main
from emosync.cli.progress import CountBar
from emosync.exporters.dispatch import read
from emosync.studio.manifest import Row, plan_lines, read_manifest
from emosync.studio.options import animate_options

ROOT = Path(__file__).resolve().parents[1]
HELLO = ROOT / "examples" / "hello.wav"


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """Two short real recordings (espeak-ng), one longer one, a transcript and a broken file."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    folder = tmp_path_factory.mktemp("clips")
    for name, text in (("morning", "good morning"), ("thanks", "thank you very much")):
        subprocess.run(["espeak-ng", "-w", str(folder / f"{name}.wav"), text], check=True)
    (folder / "thanks.txt").write_text("thank you very much", encoding="utf-8")
    shutil.copy(HELLO, folder / "hello.wav")
    return folder


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n",
        encoding="utf-8",
    )
    return path


def report(outdir: Path) -> dict:
    return json.loads((outdir / "report.json").read_text(encoding="utf-8"))


def statuses(outdir: Path) -> list[str]:
    return [line["status"] for line in report(outdir)["lines"]]


def no_partial_files(outdir: Path) -> bool:
    return not [p for p in outdir.rglob("*") if p.name.endswith(".part")]


def test_jsonl_lines_fail_alone_and_resume(clips, tmp_path, capsys):
    (clips / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 20)
    manifest = write_jsonl(
        clips / "lines.jsonl",
        [
            {"audio": "morning.wav", "emotion": "happy"},
            {"audio": "thanks.wav", "transcript": "thanks.txt", "out": ["sub/thanks.glb", "t.csv"]},
            {"audio": "hello.wav", "fps": 30, "out": "hello"},
            {"audio": "broken.wav"},
            {"audio": "missing.wav"},
            {"audio": "morning.wav", "colour": "red"},
            "not json",
            {"audio": "morning.wav", "out": "../escape.glb"},
            {"audio": "morning.wav", "fps": "fast", "out": "f"},
            {"audio": "thanks.wav", "out": "morning.json"},  # claimed by line 1 (--format json)
        ],
    )
    out = tmp_path / "out"
    argv = ["batch", str(manifest), "-o", str(out), "--format", "glb,json", "--workers", "2"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "unknown key 'colour'" in err and "not valid JSON" in err
    assert "must be a name inside the output folder" in err and "fps must be a number" in err
    assert "also written by line 1" in err and "Traceback" not in err
    assert statuses(out) == ["done"] * 3 + ["failed"] * 7
    lines = report(out)["lines"]
    assert all(line["reason"] for line in lines[3:]) and lines[4]["reason"].startswith("audio not")
    assert report(out)["summary"] == {
        "done": 3, "skipped": 0, "failed": 7, "pending": 0, "lines": 10,
    }  # fmt: skip
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.*") if p.is_file())
    expected = ["morning.glb", "morning.json", "sub/thanks.glb", "t.csv", "hello.glb"]
    expected += ["hello.json", "report.json"]
    assert [w for w in written if not w.startswith(".emosync-batch")] == sorted(expected)
    assert read(out / "hello.json").fps == 30 and read(out / "morning.json").fps == 60
    assert (
        read(out / "morning.json").metadata["emotion_timeline"]
        != read(out / "hello.json").metadata["emotion_timeline"]
    )
    assert no_partial_files(out)

    # Resume: nothing changed, every good line is skipped and its files are left alone.
    stamp = (out / "morning.glb").stat().st_mtime_ns
    assert main(argv) == 1
    assert statuses(out) == ["skipped"] * 3 + ["failed"] * 7
    assert (out / "morning.glb").stat().st_mtime_ns == stamp
    # A changed option redoes only its line; --force redoes all.
    rows = manifest.read_text(encoding="utf-8").splitlines()
    rows[0] = json.dumps({"audio": "morning.wav", "emotion": "sad"})
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(argv) == 1
    assert statuses(out)[:3] == ["done", "skipped", "skipped"]
    assert main([*argv, "--force"]) == 1
    assert statuses(out)[:3] == ["done", "done", "done"]
    # A changed input file (same name, new content) redoes its line too.
    shutil.copy(clips / "thanks.wav", tmp_path / "thanks.bak")
    shutil.copy(clips / "morning.wav", clips / "thanks.wav")
    try:
        assert main(argv) == 1
        assert statuses(out)[:3] == ["skipped", "done", "skipped"]
    finally:
        shutil.copy(tmp_path / "thanks.bak", clips / "thanks.wav")


def test_csv_folder_and_command_line_defaults(clips, tmp_path, capsys):
    manifest = clips / "lines.csv"
    manifest.write_text(
        "audio,emotion,intensity,out\n"
        "morning.wav,,,\n"
        "thanks.wav,angry,0.5,a.json;b.npz\n"
        "hello.wav,,2.5,\n",
        encoding="utf-8",
    )
    out = tmp_path / "csv"
    argv = ["batch", str(manifest), "-o", str(out), "--format", "json", "--fps", "25",
            "--emotion", "surprised", "-q"]  # fmt: skip
    assert main(argv) == 1  # hello.wav: intensity 2.5 is out of range
    assert statuses(out) == ["done", "done", "failed"]
    assert "intensity must be between" in report(out)["lines"][2]["reason"]
    morning, thanks = read(out / "morning.json"), read(out / "a.json")
    assert morning.fps == 25 and thanks.fps == 25 and (out / "b.npz").is_file()
    assert "surprised" in json.dumps(morning.metadata["emotion_timeline"])
    assert "angry" in json.dumps(thanks.metadata["emotion_timeline"])
    assert thanks.metadata["intensity"] == 0.5

    rows, base = read_manifest(clips)  # a folder: every clip, its transcript beside it
    assert base == clips.resolve()
    names = [r.values["audio"] for r in rows]
    assert names == ["broken.wav", "hello.wav", "morning.wav", "thanks.wav"]
    assert rows[3].values["transcript"] == "thanks.txt"
    lines = plan_lines(rows, base, {"emotion": "happy"}, (".csv",))
    assert lines[3].settings["transcript"] == str(clips.resolve() / "thanks.txt")
    assert lines[1].outputs == ("hello.csv",) and lines[1].settings["emotion"] == "happy"
    # A transcript cell is a file beside the manifest or the text itself, slashes and all.
    rows = [Row("line 1", {"audio": "hello.wav", "transcript": "open 24/7, call us"})]
    (text_line,) = plan_lines(rows, base)
    assert animate_options(**text_line.settings).transcript == "open 24/7, call us"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("", "has no lines"),
        ("\xff\xfe\x00", "cannot read manifest"),
        ("clip,emotion\na.wav,happy\n", "no 'audio' column"),
    ],
)
def test_unreadable_manifest_is_one_error_line(tmp_path, capsys, content, message):
    manifest = tmp_path / ("m.jsonl" if content is None or "," not in content else "m.csv")
    if content is not None:
        manifest.write_bytes(content.encode("latin-1"))
    assert main(["batch", str(manifest), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("emosync: error:") and message in err
    assert not (tmp_path / "out" / "report.json").exists()


def test_bad_options_exit_2(clips, tmp_path, capsys):
    out = str(tmp_path / "o")
    assert main(["batch", str(clips), "-o", out, "--format", "glb,mp4"]) == 2
    assert main(["batch", str(clips), "-o", out, "--workers", "0"]) == 2
    (tmp_path / "file").write_text("x")
    assert main(["batch", str(clips), "-o", str(tmp_path / "file")]) == 2
    assert main(["batch", str(tmp_path / "m.txt"), "-o", out]) == 2
    assert main(["batch", "-o", out, "--ray", "127.0.0.1:6379"]) == 2  # no manifest
    err = capsys.readouterr().err
    assert err.count("emosync: error:") == 5 and "Traceback" not in err
    assert "give a manifest" in err


def test_ray_just_before_the_manifest_is_not_its_address(clips, tmp_path):
    from emosync.cli.batch import build_run
    from emosync.cli.main import build_parser

    args = build_parser().parse_args(["batch", "--ray", str(clips), "-o", str(tmp_path)])
    run = build_run(args)
    assert (run.manifest, run.ray) == (str(clips), "")
    args = build_parser().parse_args(["batch", str(clips), "--ray", "127.0.0.1:6380", "-o", "o"])
    assert (build_run(args).manifest, build_run(args).ray) == (str(clips), "127.0.0.1:6380")


def test_user_files_are_not_overwritten_without_force(clips, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "morning.glb").write_bytes(b"the user's own file")
    manifest = write_jsonl(tmp_path / "m.jsonl", [{"audio": str(clips / "morning.wav")}])
    assert main(["batch", str(manifest), "-o", str(out)]) == 1
    assert "exists (use --force" in report(out)["lines"][0]["reason"]
    assert (out / "morning.glb").read_bytes() == b"the user's own file"
    assert main(["batch", str(manifest), "-o", str(out), "--force"]) == 0
    assert (out / "morning.glb").read_bytes()[:4] == b"glTF"


def _pool_workers(pid: int) -> list[int]:
    """The batch's grandchildren: its children are the forkserver and the resource tracker,
    and the pool's workers are forked from the forkserver."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    children = {p for p, parent in parents.items() if parent == pid}
    return sorted(p for p, parent in parents.items() if parent in children)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the workers through /proc")
def test_killed_local_worker_costs_no_line(clips, tmp_path):
    """SIGKILL a pool worker mid-run: its lines run again, every line arrives once."""
    rows = [{"audio": str(HELLO), "out": f"hello_{i:02d}.json"} for i in range(8)]
    manifest = write_jsonl(tmp_path / "m.jsonl", rows)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "emosync.cli.main", "batch", str(manifest), "-o", str(out),
           "--workers", "2", "--engine", "neural"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    try:
        deadline = time.monotonic() + 60
        while killed is None and proc.poll() is None and time.monotonic() < deadline:
            stamps = list((out / ".emosync-batch").glob("*.json")) if out.is_dir() else []
            workers = _pool_workers(proc.pid)
            if stamps and workers:  # a line is done: the workers are busy with the next ones
                killed = workers[-1]
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.05)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert killed is not None, "the batch ended before a worker could be killed"
    assert proc.returncode == 0, stderr
    assert statuses(out) == ["done"] * 8
    assert sorted(p.name for p in out.glob("*.json")) == [
        f"hello_{i:02d}.json" for i in range(8)
    ] + ["report.json"]
    assert all(read(out / f"hello_{i:02d}.json").n_frames > 0 for i in range(8))
    assert no_partial_files(out)


def test_interrupted_batch_resumes_and_one_batch_per_folder(tmp_path):
    """Ctrl-C mid-run: exit 130, the report says what is pending; a second batch on the same
    folder meanwhile is refused; running the command again finishes every line once."""
    lines = 160  # enough that the first batch still runs while the second one starts (~1.5 s)
    rows = [{"audio": str(HELLO), "out": f"hello_{i:03d}.json"} for i in range(lines)]
    manifest = write_jsonl(tmp_path / "m.jsonl", rows)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "emosync.cli.main", "batch", str(manifest), "-o", str(out),
           "--workers", "2", "--engine", "neural"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if out.is_dir() and any((out / ".emosync-batch").glob("*.json")):
                break
            time.sleep(0.05)
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert second.returncode == 2 and "another emosync batch is writing" in second.stderr
    assert proc.returncode == 130 and "emosync: interrupted" in stderr
    first = report(out)["summary"]
    assert first["pending"] > 0 and first["done"] >= 1
    assert subprocess.run(cmd, capture_output=True, timeout=300, check=False).returncode == 0
    again = report(out)["summary"]
    assert again["skipped"] >= first["done"] and again["done"] + again["skipped"] == lines
    assert sorted(p.name for p in out.glob("hello_*.json")) == [
        f"hello_{i:03d}.json" for i in range(lines)
    ]
    assert no_partial_files(out)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_shows_rate_and_time_left():
    stream = _Terminal()
    bar = CountBar("batch", 4, stream=stream)
    bar.started -= 2.0  # two seconds in
    bar(1)
    bar(4)
    text = stream.getvalue()
    assert "1/4 lines" in text and "lines/s ETA 0m06s" in text and text.endswith("\n")
    quiet = io.StringIO()  # not a terminal: nothing, so logs stay clean
    CountBar("batch", 4, stream=quiet)(4)
    assert quiet.getvalue() == ""
