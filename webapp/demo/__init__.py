"""The demo corpus: generated manuscript pages with a ground truth, and the seed command."""
