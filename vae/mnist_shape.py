"""MNIST's shape, named once: every module that flattens, reshapes or counts digits reads it here."""

IMAGE_SIDE = 28
PIXELS = IMAGE_SIDE * IMAGE_SIDE
TRAIN_SIZE = 60_000
TEST_SIZE = 10_000
