"""The app's words: introductions, explanations and the one-line messages that replace tracebacks."""
