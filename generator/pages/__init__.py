"""The page model: plain data describing every page (titles, numbers, image paths, links)."""
