"""Qt item models: thin adapters over plain Python lists (napari's _qt/containers)."""
