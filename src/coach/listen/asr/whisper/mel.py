"""Whisper's log-mel spectrogram in numpy: 16 kHz samples in, 80 x frames features out.

The same computation as OpenAI's ``whisper.audio.log_mel_spectrogram``: 25 ms Hann windows
(400 samples, periodic) every 10 ms (160 samples), centred with reflect padding; power spectrum;
80 Slaney-scaled mel filters from 0 to 8 kHz; log10 floored at 1e-10, then at 8 (i.e. 80 dB)
below the loudest value of the call; scaled by (x + 4) / 4. One frame per 10 ms of audio.
"""

from __future__ import annotations

import numpy as np

N_FFT = 400
"""Samples per analysis window (25 ms at 16 kHz)."""
HOP = 160
"""Samples between frames (10 ms at 16 kHz)."""
N_MELS = 80
_RATE = 16000


def mel_filters(n_mels: int = N_MELS, n_fft: int = N_FFT, rate: int = _RATE) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters on the Slaney mel scale (linear below 1 kHz,
    logarithmic above), each normalised to constant energy, as librosa's ``mel(htk=False)``."""
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / rate)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0

    def hz_to_mel(f: float) -> float:
        return f / f_sp if f < min_log_hz else min_log_mel + np.log(f / min_log_hz) / logstep

    mels = np.linspace(0.0, hz_to_mel(rate / 2), n_mels + 2)
    hz = np.where(mels < min_log_mel, f_sp * mels,
                  min_log_hz * np.exp(logstep * (mels - min_log_mel)))
    ramps = hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / np.diff(hz)[:-1, None]
    upper = ramps[2:] / np.diff(hz)[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz[2:] - hz[:-2]))[:, None]
    return weights.astype(np.float32)


_FILTERS = mel_filters()
_WINDOW = np.hanning(N_FFT + 1)[:-1].astype(np.float32)


def mel_power(audio: np.ndarray) -> np.ndarray:
    """(80, len(audio) // 160) float32 mel power of ``audio`` (16 kHz; int16 or float in -1..1),
    before the log. Audio shorter than a window is zero-padded to one."""
    x = np.asarray(audio)
    x = x.astype(np.float32) / 32768.0 if x.dtype == np.int16 else x.astype(np.float32)
    if x.size < N_FFT:
        x = np.pad(x, (0, N_FFT - x.size))
    x = np.pad(x, N_FFT // 2, mode="reflect")
    n = 1 + (x.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(x, (n, N_FFT), (HOP * x.strides[0], x.strides[0]))
    power = np.abs(np.fft.rfft(frames * _WINDOW, axis=-1)) ** 2  # (n, 201)
    return _FILTERS @ power[:-1].T.astype(np.float32)  # the last frame dropped, as Whisper does


def log_of_mel_power(mel: np.ndarray) -> np.ndarray:
    """Whisper's features from mel power: log10 floored at 1e-10 and at 8 below the loudest
    value, scaled by (x + 4) / 4."""
    logs = np.log10(np.maximum(mel, 1e-10))
    logs = np.maximum(logs, logs.max() - 8.0)
    return ((logs + 4.0) / 4.0).astype(np.float32)


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(80, len(audio) // 160) float32 log-mel features of ``audio`` (16 kHz; int16 or float in
    -1..1). Audio shorter than a window is zero-padded to one."""
    return log_of_mel_power(mel_power(audio))
