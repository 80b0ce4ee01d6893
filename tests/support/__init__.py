"""What several test modules share (a test module never imports another): AppTest helpers, drawn digits,
the browser tests' screenshots and failure records, the bare component page and the photo fixtures."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
