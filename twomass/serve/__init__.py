"""The IVOA Simple Cone Search service over the published catalogs (``twomass serve``).

``app`` is the Starlette application, ``scs`` reads a request and runs the search,
``votable`` writes the responses, ``reader`` manages the read-only role it connects as.
"""
