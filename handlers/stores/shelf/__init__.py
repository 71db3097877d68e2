"""Shelf photo against the planogram (货效): a clerk's photo is registered to the reference photo of the correct
shelf, each key product is looked for in its main visual position, and the result is an exposure share, the
missing / misplaced products with boxes, and an annotated photo — or a refusal with a reason, never a guess.

    planogram.py  the planogram folder (reference photo, regions TOML, product images) → Planogram
    features.py   SIFT registration, template search, darkness and sharpness measures
    check.py      check_photo → ShelfCheck
    annotate.py   the annotated PNG (Chinese labels with the bundled CJK font)
    generate.py   synthetic shelves and photos with known truth (bench, tests, demo)
"""

from handlers.stores.shelf.check import Problem, ShelfCheck, check_photo, refusal_text
from handlers.stores.shelf.planogram import KeyProduct, Planogram, PlanogramError, load_planogram

__all__ = ["KeyProduct", "Planogram", "PlanogramError", "Problem", "ShelfCheck", "check_photo", "load_planogram",
           "refusal_text"]
