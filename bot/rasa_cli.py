"""Rasa's command line (``python -m bot.rasa_cli run ...`` is ``rasa run ...``), started
so that the server is up seconds sooner.

The intent classifier is saved with skops, and importing ``skops.io`` works out the
module of every NumPy and SciPy ufunc by searching every module already imported.
Rasa imports TensorFlow (with JAX, thousands of modules) before it loads the model,
so that search took about 8 of the server's 21 s from start to first answer. Imported
here first, before any of Rasa, it takes under a second. Everything else is Rasa's
own ``rasa`` command, arguments and all.
"""

from __future__ import annotations

import skops.io  # noqa: F401  (first: see above)
from rasa.__main__ import main

if __name__ == "__main__":
    main()
