"""The 2MAPPS pixel pipeline stages: raw frames to night products."""
