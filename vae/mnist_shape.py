"""MNIST's fixed sizes, named once: every model reads and draws 28×28 grey images, and the test split has 10,000."""

from __future__ import annotations

MNIST_SIDE = 28
MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE  # 784: a model's input and output size
MNIST_TRAIN_IMAGES = 60_000
MNIST_TEST_IMAGES = 10_000
