"""The ground floor: settings, the database, errors, HEALPix and sphere geometry.

Nothing here imports from another part of twomass.
"""
