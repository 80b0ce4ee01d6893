"""The app's words: introductions, explanations and the one-line messages that replace tracebacks."""


def count(number: int, noun: str) -> str:
    """ "1 epoch", "3 epochs": a number with its noun, singular or plural."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
