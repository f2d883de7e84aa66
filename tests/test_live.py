"""`emosync live` end to end on loopback: real UDP receivers (a python-osc server for VMC and
plain OSC, a Live Link decoder written from the packet layout), the recording compared with what
was sent, PCM on standard input, emotion changes on the control port, and the error paths."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from livelink_decoder import PACKET_NAMES, decode

from emosync.cli.main import main
from emosync.exporters.dispatch import read
from emosync.rigs.channels import ARKIT_NAMES, CHANNELS

pythonosc = pytest.importorskip("pythonosc", reason="python-osc is the `live` extra")
from pythonosc.dispatcher import Dispatcher  # noqa: E402
from pythonosc.osc_server import BlockingOSCUDPServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "hello.wav"
EMOSYNC = [sys.executable, "-m", "emosync.cli.main"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """Two seconds of the bundled example clip."""
    data, sr = sf.read(EXAMPLE, dtype="float32")
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(path, data[: 2 * sr], sr)
    return path


class UdpCollector:
    """Every datagram that reaches 127.0.0.1:<port> until stopped."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets: list[bytes] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.packets.append(self.sock.recvfrom(65536)[0])
            except TimeoutError:
                continue

    def stop(self) -> list[bytes]:
        time.sleep(0.3)  # let the last datagrams land
        self._stop.set()
        self.thread.join(5)
        self.sock.close()
        return self.packets


class OscCollector:
    """A python-osc server on loopback recording (address, args) of every message in order."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, tuple]] = []
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(lambda address, *args: self.messages.append((address, args)))
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> list[tuple[str, tuple]]:
        time.sleep(0.3)
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        return self.messages


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emosync: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_streams_to_every_receiver_and_records_what_it_sent(clip, tmp_path, capsys):
    livelink, vmc, osc = UdpCollector(), OscCollector(), OscCollector()
    record = tmp_path / "rec.npz"  # exact float32 (JSON rounds to 6 decimals)
    argv = ["live", "--input", clip, "--realtime", "--fps", "60", "--emotion", "happy",
            "--livelink", f"127.0.0.1:{livelink.port}", "--subject", "Mia",
            "--vmc", f"127.0.0.1:{vmc.port}", "--osc", f"127.0.0.1:{osc.port}",
            "--osc-prefix", "/face/", "-o", record, "-q"]  # fmt: skip
    try:
        code = main([str(a) for a in argv])
    finally:
        packets, vmc_msgs, osc_msgs = livelink.stop(), vmc.stop(), osc.stop()
    assert code == 0, capsys.readouterr().err
    sent = read(record)
    assert sent.fps == 60 and sent.n_frames == 120  # 2 s at 60 fps, as `animate` counts
    assert sent.metadata["live"] is True

    # Live Link: every field of every packet, values by name equal the recording.
    assert len(packets) == sent.n_frames
    decoded = [decode(p) for p in packets]
    first = decoded[0]
    assert first.device_id[0] == "$" and len(first.device_id) == 37
    assert len(first.device_id[1:].split("-")) == 5
    for i, packet in enumerate(decoded):
        assert packet.version == 6 and packet.subject == "Mia" and packet.count == 61
        assert packet.device_id == first.device_id
        assert packet.frame == first.frame + i and packet.subframe == 0.0
        assert (packet.rate_num, packet.rate_den) == (60, 1)
        got = np.array([packet.values[name] for name in CHANNELS], np.float32)
        np.testing.assert_array_equal(got, sent.values[i])
    assert 0 <= first.frame < 60 * 86400  # the time-of-day frame, as the app numbers them

    # VMC: 52 ARKit-named Val messages, then Apply, per frame; values equal the recording.
    applies = [i for i, (a, _) in enumerate(vmc_msgs) if a == "/VMC/Ext/Blend/Apply"]
    assert len(applies) == sent.n_frames
    start = 0
    for frame, apply_at in enumerate(applies):
        vals = [m for m in vmc_msgs[start:apply_at] if m[0] == "/VMC/Ext/Blend/Val"]
        assert [args[0] for _, args in vals] == list(ARKIT_NAMES)
        np.testing.assert_allclose(
            [args[1] for _, args in vals], sent.values[frame, :52], rtol=0, atol=0
        )
        start = apply_at + 1

    # Plain OSC: one address per channel with the prefix, 61 per frame.
    assert len(osc_msgs) == 61 * sent.n_frames
    assert [a for a, _ in osc_msgs[:61]] == ["/face/" + n for n in CHANNELS]
    values = np.array([args[0] for _, args in osc_msgs], np.float32).reshape(-1, 61)
    np.testing.assert_array_equal(values, sent.values)


def test_vmc_vrm0_names(clip, tmp_path, capsys):
    vmc = OscCollector()
    try:
        code = main(["live", "--input", str(clip), "--vmc", f":{vmc.port}", "--rig", "vrm0",
                     "--fps", "25", "-q"])  # fmt: skip
    finally:
        messages = vmc.stop()
    assert code == 0, capsys.readouterr().err
    names = {args[0] for a, args in messages if a == "/VMC/Ext/Blend/Val"}
    assert {"A", "I", "U", "E", "O", "Blink", "Joy", "Sorrow", "Fun", "Angry"} <= names
    assert all(0.0 <= args[1] <= 1.0 for a, args in messages if a == "/VMC/Ext/Blend/Val")
    from emosync.exporters.live_osc import VmcSender

    pascal = VmcSender("127.0.0.1", 9, "arkit-pascal", 50.0)
    assert pascal.names[:2] == ("EyeBlinkLeft", "EyeLookDownLeft") and len(pascal.names) == 52
    pascal.close()


def test_livelink_fractional_rate_and_apple_order():
    from emosync.exporters.live_livelink import LiveLinkSender, decode_packet, encode_packet

    values = np.arange(61, dtype=np.float32) / 100.0  # channel i carries i / 100
    packet = decode(encode_packet(values, 7, "S", "$" + "A" * 36, (30000, 1001)))
    assert (packet.rate_num, packet.rate_den, packet.frame) == (30000, 1001, 7)
    for name, value in packet.values.items():
        assert value == np.float32(CHANNELS.index(name) / 100.0), name
    assert PACKET_NAMES.index("jawLeft") < PACKET_NAMES.index("jawRight")
    # the runtime decoder (the Blender receiver's) reads it back in channel order
    back = decode_packet(encode_packet(values, 7, "S", "$" + "A" * 36, (30000, 1001)))
    np.testing.assert_array_equal(back.values, values)
    sender = LiveLinkSender("127.0.0.1", 9, "S", 29.97)
    assert sender.rate == (30000, 1001)
    sender.close()


def test_stdin_pcm_gives_the_same_frames_as_the_file(clip, tmp_path):
    data, sr = sf.read(clip, dtype="int16")
    from_file, from_pipe = tmp_path / "file.npz", tmp_path / "pipe.npz"
    ok = subprocess.run([*EMOSYNC, "live", "--input", str(clip), "-o", str(from_file), "-q"],
                        stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
                        check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    piped = subprocess.run(
        [*EMOSYNC, "live", "--input", "-", "--rate", str(sr), "-o", str(from_pipe), "-q"],
        input=data.astype("<i2").tobytes(), capture_output=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    a, b = read(from_file), read(from_pipe)
    assert a.n_frames == b.n_frames == 100
    np.testing.assert_allclose(a.values, b.values, atol=2e-3)  # 16-bit quantisation only


def _brow_down(values: np.ndarray) -> np.ndarray:
    return values[:, [ARKIT_NAMES.index("browDownLeft"), ARKIT_NAMES.index("browDownRight")]].mean(
        1
    )


def test_control_port_changes_the_emotion_smoothly(tmp_path):
    data, sr = sf.read(EXAMPLE, dtype="float32")
    clip = tmp_path / "three.wav"
    sf.write(clip, data[: 3 * sr], sr)
    base = tmp_path / "base.json"
    subprocess.run([*EMOSYNC, "live", "--input", str(clip), "-o", str(base), "-q"],
                   stdin=subprocess.DEVNULL, check=True, timeout=120)  # fmt: skip
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    changed = tmp_path / "changed.json"
    proc = subprocess.Popen(
        [*EMOSYNC, "live", "--input", str(clip), "--realtime", "--control", f"127.0.0.1:{port}",
         "-o", str(changed), "-q"],
        stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as ctl:
        ctl.settimeout(0.5)
        bad = None
        for _ in range(60):  # until the stream is up and answers (bounded: about 30 s)
            ctl.sendto(b"emotion xyzzy-not-a-feeling 0.5", ("127.0.0.1", port))
            try:
                bad = ctl.recvfrom(1024)[0].decode()
                break
            except (TimeoutError, ConnectionRefusedError):
                continue
        ctl.sendto(b"emotion furious 1.2", ("127.0.0.1", port))
        ctl.settimeout(20)
        good = ""
        for _ in range(60):  # replies to repeated probes come first, in order
            good = ctl.recvfrom(1024)[0].decode()
            if not good.startswith("error: "):
                break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert bad is not None and bad.startswith("error: ") and "feeling" in bad
    assert good.startswith("ok emotion ")
    at = float(good.rsplit(" from ", 1)[1].split()[0])
    assert 0.0 <= at < 2.5
    a, b = read(base), read(changed)
    assert a.n_frames == b.n_frames
    before, ramp_end = int(at * a.fps), int((at + 0.4) * a.fps) + 1
    np.testing.assert_array_equal(a.values[:before], b.values[:before])  # nothing changed early
    after = slice(ramp_end, None)
    assert _brow_down(b.values[after]).mean() > _brow_down(a.values[after]).mean() + 0.1
    brow = _brow_down(b.values[max(before - 1, 0) : ramp_end + 5])
    rise = _brow_down(b.values[after]).mean() - brow[0]
    # ramped in over the transition (a switched emotion moves the brows in one frame)
    assert np.abs(np.diff(brow)).max() < 0.5 * rise


def test_stdin_lines_change_the_emotion_when_stdin_is_not_the_audio(clip, tmp_path):
    out = tmp_path / "angry.json"
    done = subprocess.run(
        [*EMOSYNC, "live", "--input", str(clip), "--realtime", "-o", str(out)],
        input=b"emotion angry 1.0\n", capture_output=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert b"ok emotion" in done.stderr
    curves = read(out)
    assert _brow_down(curves.values[-30:]).mean() > 0.2


def test_mic_without_a_device_is_one_line(capsys):
    try:
        import sounddevice

        sounddevice.query_devices(kind="input")
        pytest.skip("this machine has an input device")
    except Exception:  # no PortAudio, or PortAudio without an input device: the case tested
        pass
    code = main(["live", "--mic", "--livelink", "127.0.0.1:9"])
    line = one_line_error(code, capsys.readouterr().err)
    assert "--mic" in line and ("device" in line or "PortAudio" in line)


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--input", "CLIP"], "at least one output"),
        (["--input", "CLIP", "--mic", "--osc", ":9"], "one input"),
        (["--livelink", "127.0.0.1:9"], "one input"),
        (["--input", "CLIP", "--livelink", "localhost:http"], "HOST:PORT"),
        (["--input", "CLIP", "--vmc", "127.0.0.1:70000"], "port"),
        (["--input", "CLIP", "--osc", ":9", "--osc-prefix", "no slash"], "--osc-prefix"),
        (["--input", "missing.wav", "--osc", ":9"], "not found"),
        (["--input", "CLIP", "--osc", ":9", "--emotion", "xyzzy-not-a-feeling"], "feeling"),
        (["--input", "CLIP", "-o", "out.txt"], "format"),
        (["--input", "-", "--rate", "5", "--osc", ":9"], "--rate"),
    ],
)
def test_bad_input_is_one_line(argv, says, clip, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["live", *[str(clip) if a == "CLIP" else a for a in argv]])
    assert says in one_line_error(code, capsys.readouterr().err)


def test_recording_refuses_to_overwrite(clip, tmp_path, capsys):
    out = tmp_path / "rec.csv"
    out.write_text("mine")
    code = main(["live", "--input", str(clip), "-o", str(out)])
    assert "exists" in one_line_error(code, capsys.readouterr().err)
    assert out.read_text() == "mine"
