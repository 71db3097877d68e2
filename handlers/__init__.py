"""One module per capability; each exports `router` (and optionally `setup(services)`). bot/app.py lists them."""
