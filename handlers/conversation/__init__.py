"""TEMP stand-in for the classifier helper's package (never lands on main)."""
