"""Face detection, emotion classification and face tracking.

The default models (BlazeFace short-range and mini-XCEPTION) ship in ``models/`` and run with
LiteRT; see ``models/README.md`` for their provenance. Heavy modules are imported only by the
factories in ``detector`` and ``classifier``, never here.
"""
