"""coach: an offline, voice-guided, hands-free coach for psoas release with a massage ball."""

import os

__version__ = "0.1.0"

# Nothing leaves the machine. onnxruntime (the neural voices) otherwise starts Microsoft's 1DS
# telemetry from its own threads: DNS queries for mobile.events.data.microsoft.com and a device id
# and event queue written under $XDG_CACHE_HOME/Microsoft (seen with strace). Its Python
# disable_telemetry_events() does not stop that; this variable, read when the library loads, does.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
