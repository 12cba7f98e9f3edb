"""The seven emotion classes, in the order every model and file of ours uses."""

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
