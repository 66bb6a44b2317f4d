"""What pages compute: periods, figures (energy, coal, electricity, CO₂, intensities, classes)
and data quality, from rollups through the store's scoped repositories.

:mod:`.seam` is the only module here that imports the accounting and period code of other
packages, so that moving those modules changes one file.
"""
