"""Stock monitoring of fridge cameras: the catalogue (products and planograms, with their
CSV and JSON forms), per-product and per-facing appearance, the analysis of each stored,
already redacted still (a quality gate, then each facing's fill and state), what follows
from it (compliance, share of shelf, purity, out-of-stock time, the restock list) and the
stock alerts, raised through ``veilcam.alerts`` like the cold chain's."""
