"""libspeexdsp's echo canceller + preprocessor (residual echo, noise) through ctypes, for
comparison with coach.listen.echo.suppressor in bench/echo_probe.py. Needs Debian's libspeexdsp1."""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

SET_SAMPLING_RATE = 24  # SPEEX_ECHO_SET_SAMPLING_RATE
SET_ECHO_STATE = 24  # SPEEX_PREPROCESS_SET_ECHO_STATE


class SpeexCanceller:
    """Same ``process(mic, ref)`` shape as EchoSuppressor: 800-sample int16 blocks in 160-sample
    frames; filter_length: taps (4096 = 256 ms at 16 kHz)."""

    hop = 0  # speex output is not delayed

    def __init__(self, rate: int = 16000, frame: int = 160, filter_length: int = 4096) -> None:
        name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
        lib = ctypes.CDLL(name)
        lib.speex_echo_state_init.restype = ctypes.c_void_p
        lib.speex_preprocess_state_init.restype = ctypes.c_void_p
        for f in ("speex_echo_cancellation", "speex_echo_ctl", "speex_preprocess_ctl",
                  "speex_preprocess_run"):
            getattr(lib, f).argtypes = None
        self._lib, self._frame = lib, frame
        self._echo = ctypes.c_void_p(lib.speex_echo_state_init(frame, filter_length))
        r = ctypes.c_int(rate)
        lib.speex_echo_ctl(self._echo, SET_SAMPLING_RATE, ctypes.byref(r))
        self._pre = ctypes.c_void_p(lib.speex_preprocess_state_init(frame, rate))
        lib.speex_preprocess_ctl(self._pre, SET_ECHO_STATE, self._echo)

    def process(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        out = np.empty(len(mic), np.int16)
        f = self._frame
        ptr = ctypes.POINTER(ctypes.c_int16)
        for i in range(0, len(mic), f):
            m = np.ascontiguousarray(mic[i : i + f], np.int16)
            r = np.ascontiguousarray(ref[i : i + f], np.int16)
            o = np.empty(f, np.int16)
            self._lib.speex_echo_cancellation(self._echo, m.ctypes.data_as(ptr),
                                              r.ctypes.data_as(ptr), o.ctypes.data_as(ptr))
            self._lib.speex_preprocess_run(self._pre, o.ctypes.data_as(ptr))
            out[i : i + f] = o
        return out
