"""Generated scans unlike the demo corpus, with their ground truth, for `bench.quality`."""
