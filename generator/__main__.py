import os
import sys

from .cli import INTERRUPTED, main

code = main()
if code in INTERRUPTED:
    # Cleanup has run (staging removed, nothing half-written kept). TensorFlow's worker threads may
    # still be mid-step, and finalizing the interpreter under them can abort (SIGABRT): leave now.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
