"""Quality assessment of releases: the survey paper's Table 2 against a simulated truth."""
