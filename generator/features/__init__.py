"""Feature packages: one per analysis the gallery shows, each with its compute modules (arrays and
numbers, no HTML), its page data and panels. The core knows none of them; the registry lists them."""
