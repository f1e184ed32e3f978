"""The catalog-level survey simulator: night products written straight from a synthetic sky.

It stands in for the pixel pipeline (``pipeline/stages``) so that everything downstream
of it can be run, tested and benchmarked at any scale; it also writes the truth table.
"""
