"""The commands that make things: train (every model), collect (demonstrations), label (IDM pseudo-labels),
export_gnm, drive, episode_sets; and what every command shares: the flag vocabulary (`cli.py`) and the
policy registry (`registry.py`)."""
