#!/usr/bin/env python3
"""Writes the test half of pytorch_book.py's random 90/10 split of ML-100K as a u.data-format
file, so that `curec train MODEL --split test:FILE` trains and tests on exactly the rows the
PyTorch reference does (its split draws from numpy's default_rng(seed), curec's from Philox).

    pytorch_split.py PYTORCH_BOOK ML100K_DIR SEED OUT_FILE
"""
import os
import sys

import numpy as np

book, data_dir, seed, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, os.path.dirname(os.path.abspath(book)))
reference = __import__(os.path.splitext(os.path.basename(book))[0])
rows = np.loadtxt(os.path.join(data_dir, "u.data"), dtype=np.int64)
_, test = reference.split_random(len(rows), 0.1, np.random.default_rng(seed))
np.savetxt(out, rows[test], fmt="%d", delimiter="\t")
