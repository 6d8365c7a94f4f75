"""The seed network: build, train (seeded, SGD + momentum, schedule, L2), save and load."""
