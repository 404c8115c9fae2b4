"""dlcore: the library behind the Hands-On DL Lab.

Pure Python + torch (no gradio anywhere in this package). Algorithms return tensors or
small dataclasses; figures are made by :mod:`dlcore.plotting`.
"""

__version__ = "0.1.0"
