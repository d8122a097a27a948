import numpy as np

COLOUR_BINS: int
EDGE_BINS: int

def describe(
    p: np.ndarray,
    zgrey: np.ndarray,
    flat: np.ndarray,
    mean: np.ndarray,
    colour: np.ndarray,
    edges: np.ndarray,
) -> None: ...
